// Runs in main, the server, the CLI and tests. Finds model cards in the models folders, checks
// each against its ONNX file (sha256, classifier weights) and loads them on first use.
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ResightError, type ModelSummary } from '../../preload/api';
import { cardNotice, intendedUse, parseModelCard, type ModelCard } from './card';
import { readOnnxInitializer } from './onnx-initializer';

export interface LoadedModel {
  card: ModelCard;
  cardPath: string;
  onnxPath: string;
  sha256: string;
  /** Classifier weights [classes, featureChannels], read from the ONNX file. */
  weight: Float32Array;
  featureChannels: number;
  summary: ModelSummary;
}

/** A card is a few kilobytes of JSON; anything near this is not a card. */
export const MAX_CARD_BYTES = 1024 * 1024;
/** Protobuf, and so a single-file ONNX model, cannot exceed 2 GB. */
export const MAX_ONNX_BYTES = 2 * 1024 ** 3;

/**
 * Reads a file only if it is a regular file no larger than `maxBytes`: a path to /dev/zero or a
 * FIFO would otherwise be read until memory runs out. Checked on the open handle, so the file
 * cannot be swapped between the check and the read.
 */
async function readRegularFile(filePath: string, maxBytes: number): Promise<Uint8Array | 'missing' | 'not-a-file' | 'too-large'> {
  let fh;
  try {
    // Non-blocking, so opening a FIFO with no writer returns at once instead of hanging a thread.
    fh = await open(filePath, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch {
    return 'missing';
  }
  try {
    const s = await fh.stat();
    if (!s.isFile()) return 'not-a-file';
    if (s.size > maxBytes) return 'too-large';
    return new Uint8Array(await fh.readFile());
  } catch {
    return 'missing';
  } finally {
    await fh.close();
  }
}

export async function loadModel(cardPath: string): Promise<LoadedModel> {
  const fileName = path.basename(cardPath);
  const cardBytes = await readRegularFile(cardPath, MAX_CARD_BYTES);
  if (cardBytes === 'missing') throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName} could not be read as JSON.`);
  if (cardBytes === 'not-a-file') throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName} is not a regular file.`);
  if (cardBytes === 'too-large') throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName} is larger than ${MAX_CARD_BYTES / 1024 / 1024} MB; a card is a short JSON file.`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(cardBytes));
  } catch {
    throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName} could not be read as JSON.`);
  }
  const card = parseModelCard(raw, fileName);
  const dir = path.dirname(path.resolve(cardPath));
  const onnxPath = path.resolve(dir, card.file);
  if (path.dirname(onnxPath) !== dir) {
    throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName}: field "file" must name a file in the card's own folder.`);
  }
  const bytes = await readRegularFile(onnxPath, MAX_ONNX_BYTES);
  if (bytes === 'missing') throw new ResightError('MODEL_NOT_FOUND', `The model file ${card.file} named by ${fileName} is missing.`);
  if (bytes === 'not-a-file') throw new ResightError('MODEL_FILE_INVALID', `The model file ${card.file} named by ${fileName} is not a regular file.`);
  if (bytes === 'too-large') throw new ResightError('MODEL_FILE_INVALID', `The model file ${card.file} is larger than ONNX allows (2 GB).`);
  // WebCrypto hashes on the thread pool: a large model does not hold the caller's event loop.
  const sha256 = Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');
  if (card.sha256 && card.sha256 !== sha256) {
    throw new ResightError('MODEL_FILE_INVALID', `The model file ${card.file} does not match the checksum in its card; it may be damaged or replaced.`);
  }
  const w = readOnnxInitializer(bytes, card.cam.weight);
  if (w.dims.length !== 2 || w.dims[0] !== card.labels.length) {
    throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName}: "${card.cam.weight}" has shape [${w.dims.join(', ')}], but the card lists ${card.labels.length} labels.`);
  }
  return {
    card,
    cardPath,
    onnxPath,
    sha256,
    weight: w.data,
    featureChannels: w.dims[1]!,
    summary: {
      id: card.id,
      version: card.version,
      sha256,
      task: card.task,
      labels: card.labels.map((l) => ({ id: l.id, name: l.name, threshold: l.threshold ?? (card.task === 'multilabel' ? 0.5 : 1 / card.labels.length) })),
      intendedUse: intendedUse(card) ?? 'Decision support for image review.',
      placeholder: card.placeholder,
      notice: cardNotice(card),
    },
  };
}

export interface ModelFolder {
  dir: string;
  source: 'bundled' | 'user';
}

export class ModelRegistry {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();
  private readonly folders: ModelFolder[];

  /** Plain paths count as bundled folders. */
  constructor(folders: Array<string | ModelFolder>) {
    this.folders = folders.map((f) => (typeof f === 'string' ? { dir: f, source: 'bundled' as const } : f));
  }

  /** Card files found in the folders (user models one folder deeper), sorted by name. */
  async cardPaths(): Promise<Array<{ path: string; source: 'bundled' | 'user' }>> {
    const found: Array<{ path: string; source: 'bundled' | 'user' }> = [];
    for (const folder of this.folders) {
      const dirs = [folder.dir];
      if (folder.source === 'user') {
        try {
          for (const e of await readdir(folder.dir, { withFileTypes: true })) if (e.isDirectory()) dirs.push(path.join(folder.dir, e.name));
        } catch {
          continue;
        }
      }
      for (const dir of dirs.sort()) {
        let names: string[] = [];
        try {
          names = await readdir(dir);
        } catch {
          continue;
        }
        for (const name of names.sort()) if (name.endsWith('.json')) found.push({ path: path.join(dir, name), source: folder.source });
      }
    }
    return found;
  }

  load(cardPath: string, source: 'bundled' | 'user' = 'bundled'): Promise<LoadedModel> {
    let p = this.loaded.get(cardPath);
    if (!p) {
      p = loadModel(cardPath).then((m) => ({ ...m, summary: { ...m.summary, source } }));
      this.loaded.set(cardPath, p);
      p.catch(() => this.loaded.delete(cardPath));
    }
    return p;
  }

  /** Every valid model; an invalid card is skipped so one bad import cannot hide the others. */
  async list(): Promise<LoadedModel[]> {
    const out: LoadedModel[] = [];
    for (const c of await this.cardPaths()) {
      try {
        out.push(await this.load(c.path, c.source));
      } catch {
        continue;
      }
    }
    return out;
  }

  /** The chosen model when it is installed, else the first valid one. */
  async active(preferred?: { id: string; version: string } | null): Promise<LoadedModel> {
    if (preferred) {
      const match = (await this.list()).find((m) => m.card.id === preferred.id && m.card.version === preferred.version);
      if (match) return match;
    }
    let firstError: unknown;
    for (const c of await this.cardPaths()) {
      try {
        return await this.load(c.path, c.source);
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError instanceof ResightError) throw firstError;
    throw new ResightError('MODEL_NOT_FOUND', 'No model is installed. Reinstall Resight or import a model.');
  }

  /**
   * Copies a card and its ONNX file into `<userDir>/<id>-<version>/` after validating both, then
   * checks the copy's sha256 against the original so a torn copy is never used.
   */
  async importModel(cardPath: string, userDir: string): Promise<LoadedModel> {
    const source = await loadModel(cardPath);
    if ((await this.list()).some((m) => m.card.id === source.card.id && m.card.version === source.card.version)) {
      throw new ResightError('INVALID_ARGUMENT', `A model ${source.card.id} ${source.card.version} is already installed; give the new one another version.`);
    }
    const target = path.join(userDir, `${source.card.id}-${source.card.version}`);
    // The card schema already keeps id and version free of separators; this holds even if it did not.
    if (path.dirname(path.resolve(target)) !== path.resolve(userDir)) {
      throw new ResightError('MODEL_CARD_INVALID', 'The model card\'s id and version must not name a folder outside the models folder.');
    }
    await mkdir(target, { recursive: true });
    try {
      const onnxName = path.basename(source.onnxPath);
      await copyFile(source.onnxPath, path.join(target, onnxName));
      const card = { ...(JSON.parse(await readFile(cardPath, 'utf8')) as object), file: onnxName, sha256: source.sha256 };
      await writeFile(path.join(target, `${source.card.id}.json`), JSON.stringify(card, null, 2));
      return await this.load(path.join(target, `${source.card.id}.json`), 'user');
    } catch (err) {
      await rm(target, { recursive: true, force: true });
      throw err;
    }
  }
}
