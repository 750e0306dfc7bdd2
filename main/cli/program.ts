// Runs in the `resight` CLI process. The command-line surface: browser mode, inference on files,
// model listing. It uses the services directly (no UI loop to keep free, so ORT runs in-process).
import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CamMethod, ExecutionProvider, ResightError } from '../../preload/api';
import { chooseModel, fail, flag, parseWith, Threads } from './common';
import { registerDeidCommand } from './deid';
import { registerExportCommand } from './export';
import { inferFile } from './infer';
import { registerPacsCommand } from './pacs';
import { registerReviewCommand } from './review';
import { decodedArray, infoRecord, renderPng } from '../imaging/export';
import { loadImage } from '../imaging/load';
import { encodeNpy } from '../imaging/npy';
import { InProcessEngine } from '../inference/host/client';
import { defaultThreads } from '../inference/providers';
import { ModelRegistry } from '../inference/registry';
import { runWebServer } from '../server/web';

const Port = z.coerce.number().int().min(0).max(65535);
const FrameIndex = z.coerce.number().int().min(0).max(1_000_000);
const Stage = z.enum(['stored', 'modality']);
const WindowArg = z
  .string()
  .regex(/^\s*-?[\d.]+(e-?\d+)?\s*,\s*[\d.]+(e-?\d+)?\s*$/i, 'give the window as CENTER,WIDTH, e.g. 40,400')
  .transform((s) => s.split(',').map(Number) as [number, number])
  .refine(([c, w]) => Number.isFinite(c) && Number.isFinite(w) && w > 0, 'the window needs a finite center and a width above 0');

async function writeOut(file: string | undefined, bytes: Buffer): Promise<void> {
  if (!file) throw new ResightError('INVALID_ARGUMENT', 'Say where to write the result with --out <file>.');
  try {
    await writeFile(path.resolve(file), bytes);
  } catch {
    throw new ResightError('INVALID_ARGUMENT', 'The output file could not be written. Check that its folder exists and that you may write there.');
  }
}

export function buildProgram(appRoot: string): Command {
  const program = new Command('resight')
    .description('Resight — radiograph and DICOM review with a ResNet classifier and Grad-CAM. Decision support, not a diagnosis.')
    .version(__RESIGHT_VERSION__, '-V, --version', 'print the version')
    .showHelpAfterError();

  program
    .command('web')
    .description('serve the Resight interface to your browser on 127.0.0.1 (prints the URL with its per-run token)')
    .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one)', parseWith(Port, 'port'), 0)
    .option('--data-dir <dir>', 'folder for the feedback database (default: ~/.resight)')
    .option('--provider <provider>', 'execution provider: auto | cpu | webgpu | cuda | dml | coreml', parseWith(ExecutionProvider, 'provider'), 'auto')
    .option('--threads <n>', 'CPU threads for inference (default: all cores but one)', parseWith(Threads, 'threads'))
    .action(async (opts: { port: number; dataDir?: string; provider: ExecutionProvider; threads?: number }) => {
      try {
        const server = await runWebServer({ appRoot, port: opts.port, dataDir: opts.dataDir, provider: opts.provider, threads: opts.threads });
        console.log(`Resight browser mode: ${server.url}`);
        console.log(`Data folder: ${server.dataDir}`);
        console.log('Open the address above in your browser; it only answers on this computer. Press Ctrl+C to stop.');
        const stop = (): void => {
          server.close().then(() => process.exit(0), () => process.exit(1));
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      } catch (err) {
        fail(err);
      }
    });

  program
    .command('infer')
    .description('run the model on image files (DICOM, PNG, JPEG) and print the findings')
    .argument('<files...>', 'image files')
    .option('--model <card>', 'model card (.json) to use instead of the bundled default')
    .option('--cam <method>', 'heatmap method: gradcam | gradcampp | xgradcam | layercam | hirescam | eigencam | occlusion', parseWith(CamMethod, 'cam'), 'gradcam')
    .option('--label <id>', 'explain this label (default: the positive labels, else the top finding)')
    .option('--all-labels', 'explain every label')
    .option('--cam-dir <dir>', 'write <input>.<label>.npy (raw map) and <input>.<label>.png (overlay) here')
    .option('--provider <provider>', 'execution provider: auto | cpu | webgpu | cuda | dml | coreml', parseWith(ExecutionProvider, 'provider'), 'auto')
    .option('--threads <n>', 'CPU threads (default: all cores but one)', parseWith(Threads, 'threads'))
    .option('--json', 'print one JSON document: {"results": [...]}')
    .action(
      async (
        files: string[],
        opts: { model?: string; cam: CamMethod; label?: string; allLabels?: boolean; camDir?: string; provider: ExecutionProvider; threads?: number; json?: boolean },
      ) => {
        if (opts.label && opts.allLabels) fail(new ResightError('INVALID_ARGUMENT', 'Use either --label or --all-labels, not both.'));
        const engine = new InProcessEngine();
        let failed = 0;
        try {
          const model = await chooseModel(appRoot, opts.model);
          if (model.card.placeholder) console.error('WARNING: untrained placeholder model — its findings mean nothing.');
          const settings = { provider: opts.provider, threads: opts.threads ?? defaultThreads() };
          const out: unknown[] = [];
          for (const file of files) {
            try {
              const r = await inferFile(engine, model, file, settings, { cam: opts.cam, label: opts.label, allLabels: Boolean(opts.allLabels), camDir: opts.camDir });
              if (opts.json) out.push(r);
              else {
                console.log(`${file} — ${model.card.id} ${model.card.version} on ${r.provider}`);
                for (const f of r.findings) console.log(`  ${f.positive ? 'POSITIVE' : 'negative'}  ${f.name.padEnd(24)} ${f.probability.toFixed(3)} (threshold ${f.threshold.toFixed(3)})`);
              }
            } catch (err) {
              failed++;
              const shape = err instanceof ResightError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: 'unexpected error' };
              if (opts.json) out.push({ file, error: shape });
              else console.error(`error ${shape.code}: ${file}: ${shape.message}`);
            }
          }
          if (opts.json) console.log(JSON.stringify({ results: out }, null, 2));
          else console.log(model.summary.notice);
        } catch (err) {
          await engine.close();
          fail(err);
        }
        await engine.close();
        process.exitCode = failed ? 1 : 0;
      },
    );

  program
    .command('info')
    .description('print the image attributes that decoding and display depend on (no patient data)')
    .argument('<file>', 'DICOM, PNG or JPEG file')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      try {
        const record = infoRecord(await loadImage(path.resolve(file)));
        if (opts.json) console.log(JSON.stringify(record, null, 2));
        else for (const [key, value] of Object.entries(record)) console.log(`${key.padEnd(28)} ${JSON.stringify(value)}`);
      } catch (err) {
        fail(err);
      }
    });

  program
    .command('decode')
    .description('write one frame as a NumPy .npy array: stored values, or float32 values after the Modality LUT')
    .argument('<file>', 'DICOM, PNG or JPEG file')
    .option('--frame <n>', 'frame number, counting from 0', '0')
    .option('--stage <stage>', 'stored | modality', 'stored')
    .option('--out <file>', 'the .npy file to write')
    .action(async (file: string, opts: { frame: string; stage: string; out?: string }) => {
      try {
        const frame = flag(FrameIndex, opts.frame, '--frame');
        const stage = flag(Stage, opts.stage, '--stage');
        if (!opts.out) throw new ResightError('INVALID_ARGUMENT', 'Say where to write the array with --out <file.npy>.');
        const { data, shape } = decodedArray(await loadImage(path.resolve(file)), frame, stage);
        await writeOut(opts.out, encodeNpy(data, shape));
      } catch (err) {
        fail(err);
      }
    });

  program
    .command('render')
    .description('write one frame as an 8-bit PNG through the full display pipeline, at native resolution')
    .argument('<file>', 'DICOM, PNG or JPEG file')
    .option('--frame <n>', 'frame number, counting from 0', '0')
    .option('--window <center,width>', "VOI window (default: the file's first, or one from the histogram)")
    .option('--out <file>', 'the .png file to write')
    .action(async (file: string, opts: { frame: string; window?: string; out?: string }) => {
      try {
        const frame = flag(FrameIndex, opts.frame, '--frame');
        const window = opts.window === undefined ? undefined : flag(WindowArg, opts.window, '--window');
        if (!opts.out) throw new ResightError('INVALID_ARGUMENT', 'Say where to write the image with --out <file.png>.');
        const image = await loadImage(path.resolve(file));
        await writeOut(opts.out, await renderPng(image, frame, window ? { center: window[0], width: window[1] } : undefined));
      } catch (err) {
        fail(err);
      }
    });

  const models = program.command('models').description('list and check installed models');
  models
    .command('list')
    .description('list the bundled models with id, version, labels and intended use')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      try {
        const list = await new ModelRegistry([path.join(appRoot, 'models')]).list();
        if (opts.json) console.log(JSON.stringify(list.map((m) => m.summary), null, 2));
        else
          for (const m of list) {
            console.log(`${m.card.id} ${m.card.version}${m.card.placeholder ? '  [UNTRAINED PLACEHOLDER]' : ''}`);
            console.log(`  labels: ${m.card.labels.map((l) => l.id).join(', ')}`);
            console.log(`  ${m.summary.notice}`);
          }
      } catch (err) {
        fail(err);
      }
    });

  registerPacsCommand(program);
  registerExportCommand(program);
  registerDeidCommand(program);
  registerReviewCommand(program, appRoot);
  return program;
}
