// Runs as `npm run bench`. Times the walk of one image for every sample: decode, display
// intensities + preprocess, inference in the host process (batch 1 and 8), and the worst
// main-thread stall while the host works. Prints JSON; never asserts.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadImage } from '../main/imaging/load';
import { HostClient } from '../main/inference/host/client';
import { forkSpawner } from '../main/inference/host/fork';
import { defaultThreads } from '../main/inference/providers';
import { ModelRegistry } from '../main/inference/registry';
import { modelInput, runBatch, type ModelInput } from '../main/inference/service';

const root = path.resolve(__dirname, '..', '..');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const model = await new ModelRegistry([path.join(root, 'models')]).active();
  const client = new HostClient(forkSpawner(path.join(root, 'dist', 'host', 'inference-host.cjs')));
  const settings = { provider: 'cpu' as const, threads: defaultThreads() };
  const samplesDir = path.join(root, 'assets', 'samples');
  const files = readdirSync(samplesDir).filter((f) => /\.(dcm|png|jpe?g)$/i.test(f) && !f.includes('.mask'));
  const perImage: unknown[] = [];
  const inputs: ModelInput[] = [];
  for (const f of files) {
    const t0 = performance.now();
    const image = await loadImage(path.join(samplesDir, f));
    const t1 = performance.now();
    const x = modelInput(model, image, 0);
    const t2 = performance.now();
    inputs.push(x);
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      await runBatch(client, model, [x], settings);
      runs.push(performance.now() - s);
    }
    perImage.push({ file: f, width: image.info.width, height: image.info.height, decodeMs: t1 - t0, preprocessMs: t2 - t1, inferenceRoundTripMsMedian: median(runs.slice(1)) });
  }
  const batch = Array.from({ length: 8 }, (_, i) => inputs[i % inputs.length]!);
  let last = performance.now();
  let worstGap = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    worstGap = Math.max(worstGap, t - last);
    last = t;
  }, 5);
  const s = performance.now();
  await runBatch(client, model, batch, settings, 'batch');
  const batchMs = performance.now() - s;
  clearInterval(timer);
  await client.close();
  console.log(
    JSON.stringify(
      {
        benchmark: 'pipeline',
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model },
        model: { id: model.card.id, version: model.card.version },
        threads: settings.threads,
        perImage,
        batch8: { totalMs: batchMs, perImageMs: batchMs / 8, mainThreadWorstGapMs: worstGap },
      },
      null,
      2,
    ),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
