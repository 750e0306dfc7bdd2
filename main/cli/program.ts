// Runs in the `resight` CLI process. The command-line surface: browser mode, inference on files,
// model listing. It uses the services directly (no UI loop to keep free, so ORT runs in-process).
import { Command, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { ExecutionProvider, ResightError } from '../../preload/api';
import { loadImage } from '../imaging/load';
import { InProcessEngine } from '../inference/host/client';
import { defaultThreads } from '../inference/providers';
import { loadModel, ModelRegistry, type LoadedModel } from '../inference/registry';
import { modelInput, runBatch } from '../inference/service';
import { runWebServer } from '../server/web';

const parseWith =
  <T>(schema: z.ZodType<T>, what: string) =>
  (value: string): T => {
    const r = schema.safeParse(value);
    if (!r.success) throw new InvalidArgumentError(`${what}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return r.data;
  };
const Port = z.coerce.number().int().min(0).max(65535);
const Threads = z.coerce.number().int().min(1).max(256);

async function chooseModel(appRoot: string, card?: string): Promise<LoadedModel> {
  return card ? loadModel(path.resolve(card)) : new ModelRegistry([path.join(appRoot, 'models')]).active();
}

function fail(err: unknown): never {
  if (err instanceof ResightError) console.error(`error ${err.code}: ${err.message}`);
  else console.error(`error INTERNAL: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exit(1);
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
    .option('--provider <provider>', 'execution provider: auto | cpu | webgpu | cuda | dml | coreml', parseWith(ExecutionProvider, 'provider'), 'auto')
    .option('--threads <n>', 'CPU threads (default: all cores but one)', parseWith(Threads, 'threads'))
    .option('--json', 'print JSON (one object per file)')
    .action(async (files: string[], opts: { model?: string; provider: ExecutionProvider; threads?: number; json?: boolean }) => {
      const engine = new InProcessEngine();
      let failed = 0;
      try {
        const model = await chooseModel(appRoot, opts.model);
        if (model.card.placeholder) console.error('WARNING: untrained placeholder model — its findings mean nothing.');
        const settings = { provider: opts.provider, threads: opts.threads ?? defaultThreads() };
        const out: unknown[] = [];
        for (const file of files) {
          try {
            const t0 = performance.now();
            const image = await loadImage(path.resolve(file));
            const t1 = performance.now();
            const input = modelInput(model, image, 0);
            const t2 = performance.now();
            const [a] = await runBatch(engine, model, [input], settings);
            const t3 = performance.now();
            const byLabel = new Map(a!.findings.map((f) => [f.labelId, f]));
            const record = {
              file,
              model: { id: model.card.id, version: model.card.version, sha256: model.sha256, placeholder: model.card.placeholder, notice: model.summary.notice },
              provider: a!.providerUsed,
              providerRequested: settings.provider,
              logits: model.card.labels.map((l) => byLabel.get(l.id)!.logit),
              probabilities: Object.fromEntries(model.card.labels.map((l) => [l.id, byLabel.get(l.id)!.probability])),
              positive: a!.findings.filter((f) => f.positive).map((f) => f.labelId),
              findings: a!.findings.map(({ labelId, name, probability, threshold, positive }) => ({ labelId, name, probability, threshold, positive })),
              // CAMs are computed with the forward pass's outputs, inside the inference step.
              timingsMs: { decode: t1 - t0, preprocess: t2 - t1, inference: t3 - t2, cam: 0 },
            };
            if (opts.json) out.push(record);
            else {
              console.log(`${file} — ${model.card.id} ${model.card.version} on ${a!.providerUsed}`);
              for (const f of a!.findings) console.log(`  ${f.positive ? 'POSITIVE' : 'negative'}  ${f.name.padEnd(24)} ${f.probability.toFixed(3)} (threshold ${f.threshold.toFixed(3)})`);
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

  return program;
}
