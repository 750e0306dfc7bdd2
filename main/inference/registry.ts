// Runs in main, the server, the CLI and tests. Finds model cards in the models folders, checks
// each against its ONNX file (sha256, classifier weights) and loads them on first use.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ResightError, type ModelSummary } from '../../preload/api';
import { cardNotice, parseModelCard, type ModelCard } from './card';
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

export async function loadModel(cardPath: string): Promise<LoadedModel> {
  const fileName = path.basename(cardPath);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(cardPath, 'utf8'));
  } catch {
    throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName} could not be read as JSON.`);
  }
  const card = parseModelCard(raw, fileName);
  const dir = path.dirname(path.resolve(cardPath));
  const onnxPath = path.resolve(dir, card.file);
  if (path.dirname(onnxPath) !== dir) {
    throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName}: field "file" must name a file in the card's own folder.`);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(onnxPath));
  } catch {
    throw new ResightError('MODEL_NOT_FOUND', `The model file ${card.file} named by ${fileName} is missing.`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
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
      intendedUse: card.intendedUse ?? 'Decision support for image review.',
      placeholder: card.placeholder,
      notice: cardNotice(card),
    },
  };
}

export class ModelRegistry {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();

  constructor(private readonly folders: string[]) {}

  /** Card files found in the folders, sorted by name. */
  async cardPaths(): Promise<string[]> {
    const found: string[] = [];
    for (const folder of this.folders) {
      let names: string[] = [];
      try {
        names = await readdir(folder);
      } catch {
        continue;
      }
      for (const name of names.sort()) if (name.endsWith('.json')) found.push(path.join(folder, name));
    }
    return found;
  }

  load(cardPath: string): Promise<LoadedModel> {
    let p = this.loaded.get(cardPath);
    if (!p) {
      p = loadModel(cardPath);
      this.loaded.set(cardPath, p);
      p.catch(() => this.loaded.delete(cardPath));
    }
    return p;
  }

  /** Every valid model; invalid cards are skipped (and reported by `problems`). */
  async list(): Promise<LoadedModel[]> {
    const out: LoadedModel[] = [];
    for (const p of await this.cardPaths()) {
      try {
        out.push(await this.load(p));
      } catch {
        continue;
      }
    }
    return out;
  }

  /** The model used when none is chosen: the first valid one. */
  async active(): Promise<LoadedModel> {
    const paths = await this.cardPaths();
    let firstError: unknown;
    for (const p of paths) {
      try {
        return await this.load(p);
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError instanceof ResightError) throw firstError;
    throw new ResightError('MODEL_NOT_FOUND', 'No model is installed. Reinstall Resight or import a model.');
  }
}
