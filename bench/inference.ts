// Runs as `npm run bench:inference`. Inference speed against its peers, on this machine, in one
// run: bare onnxruntime session.run, our end-to-end per image (decode excluded and included),
// each CAM method, batch throughput over 200 files with decode overlapping inference, and PyTorch
// eager (Debian's python3-torch). ResNet-18 (bundled model) and a ResNet-50 export. Prints JSON.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { GRADIENT_CAM_METHODS } from '../main/inference/cam/methods';
import { loadImage } from '../main/imaging/load';
import { analyseMany } from '../main/inference/batch';
import { HostClient } from '../main/inference/host/client';
import { forkSpawner } from '../main/inference/host/fork';
import { defaultThreads } from '../main/inference/providers';
import { loadModel, ModelRegistry, type LoadedModel } from '../main/inference/registry';
import { camFor, modelInput, OCCLUSION_DEFAULTS, occlusionCam, runBatch } from '../main/inference/service';

const root = path.resolve(__dirname, '..', '..');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const threads = Number(process.argv.find((a) => a.startsWith('--threads='))?.slice(10) ?? defaultThreads());
const RUNS = 15;

async function timeIt(fn: () => Promise<unknown> | unknown, runs = RUNS): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return median(t);
}

async function benchModel(model: LoadedModel, samples: string[]) {
  const { channels, height, width } = model.card.input;
  const session = await ort.InferenceSession.create(model.onnxPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'] });
  const bare = async (n: number) => {
    const x = new ort.Tensor('float32', new Float32Array(n * channels * height * width).fill(0.1), [n, channels, height, width]);
    return timeIt(() => session.run({ [model.card.input.name]: x }));
  };
  const client = new HostClient(forkSpawner(path.join(root, 'dist', 'host', 'inference-host.cjs')));
  const settings = { provider: 'cpu' as const, threads };
  const image = await loadImage(samples[0]!);
  const label = model.card.labels[0]!.id;
  // Where the end-to-end time goes besides session.run: preprocessing, the trip to the host and
  // back (its wall time less the host's own session.run), the CAM.
  const split = { preprocess: [] as number[], hostTrip: [] as number[], cam: [] as number[] };
  const endToEnd = async (img: typeof image) => {
    const t0 = performance.now();
    const x = modelInput(model, img, 0);
    const t1 = performance.now();
    const [a] = await runBatch(client, model, [x], settings);
    const t2 = performance.now();
    camFor(model, a!, 'gradcam', a!.findings[0]!.labelId);
    split.preprocess.push(t1 - t0);
    split.hostTrip.push(t2 - t1 - a!.inferenceMs);
    split.cam.push(performance.now() - t2);
  };
  // Bare and end-to-end runs alternate, so both see the same machine (other work, clock changes).
  const x1 = new ort.Tensor('float32', new Float32Array(channels * height * width).fill(0.1), [1, channels, height, width]);
  await session.run({ [model.card.input.name]: x1 });
  await endToEnd(image);
  const bareRuns: number[] = [];
  const excludedRuns: number[] = [];
  for (let i = 0; i < 2 * RUNS; i++) {
    let s = performance.now();
    await session.run({ [model.card.input.name]: x1 });
    bareRuns.push(performance.now() - s);
    s = performance.now();
    await endToEnd(image);
    excludedRuns.push(performance.now() - s);
  }
  const bare1 = median(bareRuns);
  const excluded = median(excludedRuns);
  const overheadMs = { preprocess: median(split.preprocess), hostTrip: median(split.hostTrip), cam: median(split.cam) };
  const bare8 = await bare(8);
  await session.release();

  const included = await timeIt(async () => endToEnd(await loadImage(samples[0]!)));
  const input = modelInput(model, image, 0);
  const preprocessMs = await timeIt(() => modelInput(model, image, 0));
  const [analysis] = await runBatch(client, model, [input], settings);
  const camMs: Record<string, number> = {};
  for (const m of GRADIENT_CAM_METHODS) camMs[m] = await timeIt(() => camFor(model, analysis!, m, label), 30);
  const occlusionStart = performance.now();
  await occlusionCam(client, model, input, analysis!, label, settings, OCCLUSION_DEFAULTS);
  camMs.occlusion = performance.now() - occlusionStart;

  const files = Array.from({ length: 200 }, (_, i) => samples[i % samples.length]!);
  const t0 = performance.now();
  let done = 0;
  for await (const batch of analyseMany(client, model, files, settings, { batchSize: 8 })) done += batch.filter((b) => b.analysis).length;
  const throughput = done / ((performance.now() - t0) / 1000);
  await client.close();
  const bareThroughput8 = 8 / (bare8 / 1000);
  return {
    model: `${model.card.id} ${model.card.version}`,
    bareSessionRunMs: { batch1: bare1, batch8: bare8, batch8PerImage: bare8 / 8 },
    endToEndMsPerImage: { decodeExcluded: excluded, decodeIncluded: included, preprocess: preprocessMs },
    ratioDecodeExcludedToBare: excluded / bare1,
    decodeExcludedOverheadMs: overheadMs,
    camMs,
    throughput: { filesProcessed: done, imagesPerSecond: throughput, bareImagesPerSecondBatch8: bareThroughput8, ratio: throughput / bareThroughput8 },
  };
}

async function main(): Promise<void> {
  const samplesDir = path.join(root, 'assets', 'samples');
  const samples = readdirSync(samplesDir)
    .filter((f) => /\.(dcm|png)$/i.test(f) && !f.includes('.mask'))
    .map((f) => path.join(samplesDir, f));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'resight-bench-'));
  const torch = JSON.parse(execFileSync('/usr/bin/python3', [path.join(root, 'bench', 'export_resnet50.py'), tmp, String(threads)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').at(-1)!) as unknown;
  const r18 = await new ModelRegistry([path.join(root, 'models')]).active();
  const r50 = await loadModel(path.join(tmp, 'resnet50-bench.json'));
  const results = [await benchModel(r18, samples), await benchModel(r50, samples)];
  console.log(
    JSON.stringify(
      {
        benchmark: 'inference',
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model },
        threads,
        provider: 'cpu',
        results,
        pytorchEager: torch,
        targets: { decodeExcludedOverBare: '<= 1.15', gradcamMs: '<= 2', batchThroughputOverBare: '>= 0.85' },
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
