// Runs in the CLI, the server and main. Batch review: the active model over every image of a folder,
// a DICOMDIR or a PACS study list; each result goes to the store, then results.csv, a CAM PNG per
// image and positive label, and the case-review bundle. An item counts as done only once its
// result row is committed, and its CAM files are written before that row, so a run stopped at any
// moment (pause, Ctrl+C, crash) resumes with exactly the items that are not complete.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ResightError, type CamMap, type CamMethod } from '../../preload/api';
import { exportCases, type ExportOptions } from '../export/bundle';
import { csvCell } from '../export/cases-csv';
import { displayIntensities, reducedIntensities, toGrey8 } from '../imaging/voi';
import type { LoadedImage, ReducedFrame } from '../imaging/types';
import { analyseMany, type BatchDecode, type BatchItem } from '../inference/batch';
import { labelledOverlay, renderCamOverlay } from '../inference/cam/overlay';
import { inputGeometry } from '../inference/geometry';
import type { InferenceEngine } from '../inference/host/client';
import type { LoadedModel } from '../inference/registry';
import { camFor, occlusionCam, OCCLUSION_DEFAULTS, type InferenceSettings } from '../inference/service';
import { BatchItems } from '../store/batch-items';
import { openDatabase, type DatabaseKey } from '../store/database';
import { Store } from '../store/repositories';
import type { ReviewItem } from './sources';

export interface ReviewProgress {
  total: number;
  /** Completed, this run and earlier runs together. */
  done: number;
  /** Completed by earlier runs (skipped on resume). */
  resumed: number;
  failed: number;
  /** Seconds left at this run's pace; null until one batch has finished. */
  etaSeconds: number | null;
}

export interface ReviewOptions {
  out: string;
  /** The database results go to; default <out>/review.sqlite. */
  dbPath?: string;
  /** Its key, when that database is encrypted (the app's own, see main/store/encryption.ts). */
  dbKey?: DatabaseKey;
  model: LoadedModel;
  engine: InferenceEngine;
  settings: InferenceSettings;
  cam: CamMethod;
  resume: boolean;
  /** Attributed in the audit log. */
  actor: string;
  signal?: AbortSignal;
  onProgress?: (p: ReviewProgress) => void;
  batchSize?: number;
  /** 'reduced' (default) decodes only what the model's input needs; 'full' every pixel, for comparison. */
  decode?: BatchDecode;
}

export interface ReviewOutcome {
  total: number;
  completed: number;
  resumed: number;
  failed: Array<{ source: string; code: string; message: string }>;
  /** True when the run stopped early (pause or cancel); --resume continues it. */
  paused: boolean;
  dbPath: string;
  /** Image ids with a result from this model, in item order. */
  imageIds: string[];
}

/** Names CAM files by image id, never by anything from the source (file names may hold patient data). */
export function camFileName(imageId: string, labelId: string): string {
  return `${imageId.slice(0, 16)}.${labelId.replace(/[^A-Za-z0-9_-]/g, '_')}.png`;
}

/** Whole or not at all: a run stopped mid-write leaves a .partial file, never a short one under the real name. */
export async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.partial`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

function greyDisplay(image: LoadedImage | ReducedFrame): { grey: Uint8Array; width: number; height: number } {
  const reduced = 'pixels' in image;
  const grey = toGrey8(reduced ? reducedIntensities(image) : displayIntensities(image.frame(0), image.info));
  return { grey, width: reduced ? image.width : image.info.width, height: reduced ? image.height : image.info.height };
}

async function writeCamPngs(opts: ReviewOptions, item: BatchItem, cams: Record<string, CamMap>, positive: string[]): Promise<void> {
  if (!positive.length) return;
  const { model } = opts;
  const { grey, width, height } = greyDisplay(item.image!);
  // The map's geometry is recomputed for the decoded size, so the heat sits on the anatomy.
  const geometry = inputGeometry(model.card.input.resize, width, height, model.card.input.width, model.card.input.height);
  const dir = path.join(opts.out, 'cams');
  await mkdir(dir, { recursive: true });
  for (const label of positive) {
    const cam = cams[label]!;
    const png = await renderCamOverlay(grey, 1, width, height, { values: cam.values, width: cam.width, height: cam.height }, geometry, labelledOverlay(model.card, opts.cam, label));
    await writeAtomically(path.join(dir, camFileName(item.image!.info.imageId, label)), png);
  }
}

async function camsFor(opts: ReviewOptions, item: BatchItem): Promise<Record<string, CamMap>> {
  const { model } = opts;
  const analysis = item.analysis!;
  const cams: Record<string, CamMap> = {};
  if (opts.cam !== 'occlusion') {
    for (const label of model.card.labels) cams[label.id] = camFor(model, analysis, opts.cam, label.id);
    return cams;
  }
  // Occlusion costs many forward passes per label: only the labels a reader will look at.
  for (const f of analysis.findings.filter((x) => x.positive)) {
    cams[f.labelId] = await occlusionCam(opts.engine, model, item.input!, analysis, f.labelId, opts.settings, { ...OCCLUSION_DEFAULTS, signal: opts.signal });
  }
  return cams;
}

export async function runReview(items: ReviewItem[], opts: ReviewOptions): Promise<ReviewOutcome> {
  await mkdir(opts.out, { recursive: true });
  const dbPath = opts.dbPath ?? path.join(opts.out, 'review.sqlite');
  const store = new Store(await openDatabase(dbPath, { key: opts.dbKey }));
  try {
    const batchItems = new BatchItems(store);
    const done = batchItems.completed(opts.model.sha256);
    const previously = items.filter((i) => done.has(i.key));
    if (previously.length && !opts.resume) {
      throw new ResightError(
        'REVIEW_FAILED',
        `This output folder already holds results for ${previously.length} of these images. Add --resume to continue that review, or choose another output folder.`,
      );
    }
    const remaining = items.filter((i) => !done.has(i.key));
    const bySource = new Map(items.map((i) => [i.file, i]));
    const failed: ReviewOutcome['failed'] = [];
    const progress: ReviewProgress = { total: items.length, done: previously.length, resumed: previously.length, failed: 0, etaSeconds: null };
    opts.onProgress?.({ ...progress });
    const started = performance.now();
    let finishedThisRun = 0;
    let paused = false;
    const batches = analyseMany(opts.engine, opts.model, remaining.map((i) => i.file), opts.settings, {
      batchSize: opts.batchSize,
      keepImages: true,
      keepInputs: opts.cam === 'occlusion',
      decode: opts.decode,
    });
    /** Commits one batch: CAMs, CAM PNGs, then each item's result row. */
    const finish = async (batch: BatchItem[]): Promise<void> => {
      for (const item of batch) {
        const source = bySource.get(item.file)!;
        if (!item.analysis) {
          failed.push({ source: source.source, code: item.error!.code, message: item.error!.message });
          progress.failed++;
          continue;
        }
        const cams = await camsFor(opts, item);
        const positive = item.analysis.findings.filter((f) => f.positive).map((f) => f.labelId);
        await writeCamPngs(opts, item, cams, positive);
        const info = item.image!.info;
        const stored = batchItems.complete(
          source.key,
          info,
          item.file,
          {
            imageId: info.imageId,
            frame: 0,
            modelId: opts.model.card.id,
            modelVersion: opts.model.card.version,
            modelSha256: opts.model.sha256,
            providerRequested: opts.settings.provider,
            providerUsed: item.analysis.providerUsed,
            findings: item.analysis.findings,
            cams,
            inferenceMs: item.analysis.inferenceMs,
          },
          opts.actor,
        );
        done.set(source.key, { imageId: info.imageId, resultId: stored.resultId });
        progress.done++;
        finishedThisRun++;
      }
      const perItem = (performance.now() - started) / 1000 / Math.max(1, finishedThisRun + progress.failed);
      progress.etaSeconds = Math.round(perItem * (progress.total - progress.done - progress.failed));
      opts.onProgress?.({ ...progress });
    };
    // Batch k is committed while the host runs batch k + 1: the loop asks for the next batch before
    // it waits for the commits. The rejection handler only marks the promise as watched; the await
    // below still throws.
    let pending: Promise<void> = Promise.resolve();
    try {
      for await (const batch of batches) {
        await pending;
        pending = finish(batch);
        pending.catch(() => undefined);
        // Pausing waits for the batch in flight: its results are committed, nothing is half done.
        if (opts.signal?.aborted) break;
      }
      await pending;
      paused = Boolean(opts.signal?.aborted) && progress.done + progress.failed < progress.total;
    } finally {
      await batches.return(undefined);
    }
    return {
      total: items.length,
      completed: progress.done,
      resumed: previously.length,
      failed,
      paused,
      dbPath,
      imageIds: [...new Set(items.flatMap((i) => (done.has(i.key) ? [done.get(i.key)!.imageId] : [])))],
    };
  } finally {
    store.close();
  }
}

export interface ReviewBundle {
  /** The zip written, or null when no case could go into it. */
  path: string | null;
  cases: number;
  excluded: number;
  /** Why there is no bundle (every case was left out, e.g. for burned-in annotation). */
  skipped?: string;
}

/**
 * The case-review bundle of a finished review. The review itself is complete whatever happens
 * here; when de-identification leaves no case to export, no bundle is written and the reason is
 * returned instead of an error.
 */
export async function reviewBundle(dbPath: string, out: string, imageIds: string[], options: Omit<ExportOptions, 'format' | 'imageIds'>): Promise<ReviewBundle> {
  const zip = path.join(out, 'case-review.zip');
  // An export never overwrites a file, but this bundle is remade from the whole store on every
  // run: written under another name, it replaces an earlier run's only once it is complete.
  const next = `${zip}.next`;
  await rm(next, { force: true });
  try {
    const summary = await exportCases(dbPath, next, { ...options, format: 'bundle', imageIds });
    await rename(next, zip);
    return { path: zip, cases: summary.cases, excluded: summary.excluded.length };
  } catch (err) {
    if (!(err instanceof ResightError && err.code === 'NOTHING_TO_EXPORT')) throw err;
    return { path: null, cases: 0, excluded: imageIds.length, skipped: err.message };
  }
}

/**
 * results.csv, one row per image × label, from the store (so a resumed run lists earlier runs'
 * items too). The first column is the file (relative to the reviewed folder) or, for PACS items,
 * the SOP Instance UID; its header says which.
 */
export async function resultsCsv(items: ReviewItem[], dbPath: string, model: LoadedModel, dbKey?: DatabaseKey): Promise<string> {
  const store = new Store(await openDatabase(dbPath, { key: dbKey }));
  try {
    const done = new BatchItems(store).completed(model.sha256);
    const first = items.some((i) => i.kind === 'pacs') ? 'sop_instance_uid' : 'file';
    const lines = [[first, 'label', 'probability', 'positive', 'threshold', 'image_id', 'model_id', 'model_version', 'provider', 'cam_png'].join(',')];
    for (const item of items) {
      const completed = done.get(item.key);
      const result = completed && store.result(completed.resultId);
      if (!result) continue;
      for (const f of result.findings) {
        const png = f.positive ? path.join('cams', camFileName(result.imageId, f.labelId)) : '';
        lines.push(
          [
            csvCell(item.source),
            csvCell(f.labelId),
            f.probability.toFixed(6),
            f.positive ? '1' : '0',
            f.threshold.toFixed(6),
            result.imageId,
            csvCell(result.modelId),
            csvCell(result.modelVersion),
            csvCell(result.providerUsed),
            csvCell(png),
          ].join(','),
        );
      }
    }
    return `${lines.join('\n')}\n`;
  } finally {
    store.close();
  }
}
