// Runs in the `resight` CLI process. `resight review`: the model over a whole folder, DICOMDIR or
// PACS study list, with progress and ETA on stderr; Ctrl+C pauses after the batch in flight and
// `--resume` continues where it stopped.
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CamMethod, ExecutionProvider, ResightError } from '../../preload/api';
import { existsSync } from 'node:fs';
import { HostClient, InProcessEngine, type InferenceEngine } from '../inference/host/client';
import { forkSpawner } from '../inference/host/fork';
import { defaultThreads } from '../inference/providers';
import { DicomWebClient } from '../pacs/client';
import { credentialsFromCli } from '../pacs/credentials';
import { pacsItems } from '../review/pacs-source';
import { resultsCsv, reviewBundle, runReview, type ReviewProgress } from '../review/review';
import { localItems, type ReviewItem } from '../review/sources';
import { chooseModel, fail, parseWith, Threads } from './common';

const BatchSize = z.coerce.number().int().min(1).max(256);

interface ReviewFlags {
  pacs?: string;
  study?: string[];
  out?: string;
  model?: string;
  cam: CamMethod;
  resume?: boolean;
  db?: string;
  provider: ExecutionProvider;
  threads?: number;
  batchSize?: number;
  reader: string;
  user?: string;
  token?: string;
  bundle: boolean;
  identified?: boolean;
  allowBurnedIn?: boolean;
  decode: 'reduced' | 'full';
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m ${seconds % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

function progressLine(p: ReviewProgress): string {
  const eta = p.etaSeconds === null ? '' : ` · ETA ${duration(p.etaSeconds)}`;
  return `reviewed ${p.done}/${p.total}${p.resumed ? ` (${p.resumed} from an earlier run)` : ''}${p.failed ? `, ${p.failed} failed` : ''}${eta}`;
}

export function registerReviewCommand(program: Command, appRoot: string): void {
  program
    .command('review')
    .description('run the model over a folder, a DICOMDIR or PACS studies: results.csv, CAM PNGs for positive labels and the case-review bundle')
    .argument('[target]', 'folder (searched recursively) or DICOMDIR')
    .option('--pacs <dicomweb-root>', 'review studies from this DICOMweb server instead (with --study)')
    .option('--study <uid...>', 'Study Instance UID(s) to retrieve from --pacs')
    .option('--out <dir>', 'output folder (created if missing)')
    .option('--model <card>', 'model card (.json) to use instead of the bundled default')
    .option('--cam <method>', 'heatmap method: gradcam | gradcampp | xgradcam | layercam | hirescam | eigencam | occlusion', parseWith(CamMethod, 'cam'), 'gradcam')
    .option('--resume', 'continue a review stopped earlier in the same --out folder; completed images are not run again')
    .option('--db <path>', 'database for the results (default: <out>/review.sqlite); give the app\'s database to see them in the app')
    .option('--provider <provider>', 'execution provider: auto | cpu | webgpu | cuda | dml | coreml', parseWith(ExecutionProvider, 'provider'), 'auto')
    .option('--threads <n>', 'CPU threads (default: all cores but one)', parseWith(Threads, 'threads'))
    .option('--decode <how>', 'reduced: decode only what the model needs (a JPEG 2000 resolution level); full: every pixel, for comparison', parseWith(z.enum(['reduced', 'full']), 'decode'), 'reduced')
    .option('--batch-size <n>', 'images per model batch (default: 8 on CPU, 16 on a GPU)', parseWith(BatchSize, 'batch size'))
    .option('--reader <name>', 'name the results are attributed to in the audit log', 'batch review')
    .option('--user <name>', 'PACS basic-auth user (password from RESIGHT_PACS_PASSWORD)')
    .option('--token <token>', 'PACS bearer token (or RESIGHT_PACS_TOKEN)')
    .option('--no-bundle', 'skip the case-review bundle')
    .option('--identified', 'keep patient data in the bundle (de-identified by default)')
    .option('--allow-burned-in', 'include images marked as having burned-in text in the de-identified bundle')
    .action(async (target: string | undefined, opts: ReviewFlags) => {
      // The host process runs the model while this one decodes the next batch and commits the last
      // (onnxruntime blocks the thread that calls it); in-process only where the host is not built.
      const hostEntry = path.join(appRoot, 'dist', 'host', 'inference-host.cjs');
      const engine: InferenceEngine & { close(): Promise<void> } = existsSync(hostEntry) ? new HostClient(forkSpawner(hostEntry)) : new InProcessEngine();
      const controller = new AbortController();
      const pause = (): void => {
        if (controller.signal.aborted) process.exit(130);
        console.error('pausing after the batch in flight (Ctrl+C again to stop at once; run again with --resume to continue)');
        controller.abort();
      };
      process.on('SIGINT', pause);
      process.on('SIGTERM', pause);
      try {
        if (!opts.out) throw new ResightError('INVALID_ARGUMENT', 'Say where to write the review with --out <folder>.');
        if (Boolean(target) === Boolean(opts.pacs)) throw new ResightError('INVALID_ARGUMENT', 'Give either a folder or DICOMDIR to review, or --pacs <url> with --study <uid>, not both.');
        if (opts.pacs && !opts.study?.length) throw new ResightError('INVALID_ARGUMENT', 'Say which studies to review with --study <uid> (one or more).');
        const out = path.resolve(opts.out);
        const model = await chooseModel(appRoot, opts.model);
        if (model.card.placeholder) console.error('WARNING: untrained placeholder model — its findings mean nothing.');
        let items: ReviewItem[];
        const retrievalFailed: Array<{ source: string; code: string; message: string }> = [];
        if (opts.pacs) {
          const client = new DicomWebClient({ url: opts.pacs, auth: credentialsFromCli(opts) });
          const retrieved = await pacsItems(client, opts.study!, path.join(out, 'retrieved'), {
            signal: controller.signal,
            onProgress: (done, total) => process.stderr.write(`retrieved ${done}/${total}\n`),
          });
          items = retrieved.items;
          retrievalFailed.push(...retrieved.failed);
        } else items = await localItems(path.resolve(target!));
        const settings = { provider: opts.provider, threads: opts.threads ?? defaultThreads() };
        const outcome = await runReview(items, {
          out,
          dbPath: opts.db && path.resolve(opts.db),
          model,
          engine,
          settings,
          cam: opts.cam,
          resume: Boolean(opts.resume),
          actor: opts.reader,
          signal: controller.signal,
          batchSize: opts.batchSize,
          decode: opts.decode,
          onProgress: (p) => process.stderr.write(`${progressLine(p)}\n`),
        });
        const failed = [...retrievalFailed, ...outcome.failed];
        for (const f of failed) console.error(`failed ${f.source}: error ${f.code}: ${f.message}`);
        await writeFile(path.join(out, 'results.csv'), await resultsCsv(items, outcome.dbPath, model));
        if (outcome.paused) {
          console.log(`paused: ${outcome.completed} of ${outcome.total} images reviewed → ${path.join(out, 'results.csv')}; run the same command with --resume to continue`);
          process.exitCode = 2;
          return;
        }
        let bundle = '';
        if (opts.bundle && outcome.imageIds.length) {
          const made = await reviewBundle(outcome.dbPath, out, outcome.imageIds, { identified: Boolean(opts.identified), allowBurnedIn: Boolean(opts.allowBurnedIn), appRoot });
          if (made.path) bundle = `; bundle ${made.path} (${made.cases} cases${made.excluded ? `, ${made.excluded} excluded` : ''})`;
          else {
            console.error(`no bundle: ${made.skipped} Add --allow-burned-in or --identified to include those images.`);
            bundle = '; no bundle (nothing could be exported de-identified)';
          }
        }
        console.log(
          `reviewed ${outcome.completed} of ${outcome.total} images with ${model.card.id} ${model.card.version}` +
            `${outcome.resumed ? ` (${outcome.resumed} from an earlier run)` : ''}, ${failed.length} failed → ${path.join(out, 'results.csv')}${bundle}`,
        );
        console.log(model.summary.notice);
        process.exitCode = failed.length ? 1 : 0;
      } catch (err) {
        await engine.close();
        fail(err);
      } finally {
        process.off('SIGINT', pause);
        process.off('SIGTERM', pause);
        await engine.close();
      }
    });
}
