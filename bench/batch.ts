// Runs under Node (`npm run bench:batch`). Batch review throughput, printed as JSON, next to the bare
// model's own throughput measured in the same run: `runReview` (what `resight review` runs: decode
// overlapping inference in the host process, a CAM per label, CAM PNGs for positive labels, one
// committed transaction per image) over sample images from a folder, over the same images retrieved
// from a local Orthanc by WADO-RS, and over 2,500 × 3,000 JPEG 2000 radiographs decoded at the
// model's resolution level against full decode.
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Deidentifier } from '../main/export/deid';
import { fixturesScript } from '../main/imaging/testdata/fixtures';
import { HostClient } from '../main/inference/host/client';
import { forkSpawner } from '../main/inference/host/fork';
import { defaultThreads } from '../main/inference/providers';
import { ModelRegistry, type LoadedModel } from '../main/inference/registry';
import { DicomWebClient } from '../main/pacs/client';
import { pacsItems } from '../main/review/pacs-source';
import { runReview, type ReviewOptions } from '../main/review/review';
import { localItems, type ReviewItem } from '../main/review/sources';
import { orthancAvailable, startOrthanc, uploadToOrthanc } from '../main/testing/orthanc';

const root = path.resolve(__dirname, '..', '..');
const IMAGES = Number(process.env.RESIGHT_BENCH_IMAGES ?? 500);
const J2K_IMAGES = Number(process.env.RESIGHT_BENCH_J2K_IMAGES ?? 200);
const J2K_FULL_IMAGES = Number(process.env.RESIGHT_BENCH_J2K_FULL_IMAGES ?? 20);
const threads = defaultThreads();
const round = (x: number): number => Math.round(x * 100) / 100;

async function bareThroughput(model: LoadedModel): Promise<number> {
  const { channels, height, width } = model.card.input;
  const session = await ort.InferenceSession.create(model.onnxPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'] });
  const x = new ort.Tensor('float32', new Float32Array(8 * channels * height * width).fill(0.1), [8, channels, height, width]);
  await session.run({ [model.card.input.name]: x });
  const t: number[] = [];
  for (let i = 0; i < 10; i++) {
    const s = performance.now();
    await session.run({ [model.card.input.name]: x });
    t.push(performance.now() - s);
  }
  await session.release();
  t.sort((a, b) => a - b);
  return 8 / (t[5]! / 1000);
}

async function review(items: ReviewItem[], base: Omit<ReviewOptions, 'out'>, out: string): Promise<{ images: number; seconds: number; imagesPerSecond: number; failed: number }> {
  const t = performance.now();
  const outcome = await runReview(items, { ...base, out });
  const seconds = (performance.now() - t) / 1000;
  return { images: outcome.completed, seconds: round(seconds), imagesPerSecond: round(outcome.completed / seconds), failed: outcome.failed.length };
}

async function main(): Promise<void> {
  const model = await new ModelRegistry([path.join(root, 'models')]).active();
  const bare = await bareThroughput(model);
  const client = new HostClient(forkSpawner(path.join(root, 'dist', 'host', 'inference-host.cjs')));
  const base = { model, engine: client, settings: { provider: 'cpu' as const, threads }, cam: 'gradcam' as const, resume: false, actor: 'bench' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-bench-batch-'));
  try {
    // Distinct paths (hard links), so no decode cache hit makes a copy look free.
    const samplesDir = path.join(root, 'assets', 'samples');
    const samples = readdirSync(samplesDir).filter((f) => /\.(dcm|png)$/i.test(f) && !f.includes('.mask'));
    const folder = path.join(dir, 'folder');
    mkdirSync(folder);
    for (let i = 0; i < IMAGES; i++) {
      const name = samples[i % samples.length]!;
      linkSync(path.join(samplesDir, name), path.join(folder, `${String(i).padStart(4, '0')}${path.extname(name)}`));
    }
    await review((await localItems(folder)).slice(0, 8), base, path.join(dir, 'warm'));
    const fromFolder = await review(await localItems(folder), base, path.join(dir, 'out-folder'));

    let fromPacs: unknown = 'not measured: Orthanc is not installed';
    if (orthancAvailable()) {
      const pacs = await startOrthanc({ auth: false });
      try {
        // Each copy gets its own UIDs (a PACS keeps one instance per SOP Instance UID).
        const dicom = samples.filter((f) => f.endsWith('.dcm')).map((f) => readFileSync(path.join(samplesDir, f)));
        const copies = Array.from({ length: IMAGES }, (_, i) => new Deidentifier({ allowBurnedIn: true }).deidentify(dicom[i % dicom.length]!).bytes);
        for (let i = 0; i < copies.length; i += 50) await uploadToOrthanc(pacs, copies.slice(i, i + 50));
        const web = new DicomWebClient({ url: pacs.url });
        const studies = (await web.searchStudies({}, { limit: 100_000 })).map((s) => s.StudyInstanceUID);
        const t = performance.now();
        const retrieved = await pacsItems(web, studies, path.join(dir, 'retrieved'));
        const retrieveSeconds = (performance.now() - t) / 1000;
        const reviewed = await review(retrieved.items, base, path.join(dir, 'out-pacs'));
        const total = retrieveSeconds + reviewed.seconds;
        fromPacs = {
          images: reviewed.images,
          retrieveSeconds: round(retrieveSeconds),
          retrieveImagesPerSecond: round(retrieved.items.length / retrieveSeconds),
          reviewSeconds: reviewed.seconds,
          imagesPerSecond: round(reviewed.images / total),
          failed: retrieved.failed.length + reviewed.failed,
        };
      } finally {
        await pacs.stop();
      }
    }

    const big = path.join(dir, 'big.dcm');
    execFileSync('/usr/bin/python3', [fixturesScript, 'big', big, '3000', '2500']);
    const j2k = path.join(dir, 'big-j2k.dcm');
    execFileSync('gdcmconv', ['--j2k', big, j2k]);
    const j2kFolder = path.join(dir, 'j2k');
    mkdirSync(j2kFolder);
    for (let i = 0; i < J2K_IMAGES; i++) linkSync(j2k, path.join(j2kFolder, `${String(i).padStart(4, '0')}.dcm`));
    const j2kItems = await localItems(j2kFolder);
    const reduced = await review(j2kItems, { ...base, decode: 'reduced' }, path.join(dir, 'out-j2k-reduced'));
    const full = await review(j2kItems.slice(0, J2K_FULL_IMAGES), { ...base, decode: 'full' }, path.join(dir, 'out-j2k-full'));

    console.log(
      JSON.stringify(
        {
          benchmark: 'batch-review',
          machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model },
          model: `${model.card.id} ${model.card.version}`,
          provider: 'cpu',
          threads,
          bareModelImagesPerSecondBatch8: round(bare),
          folder: { ...fromFolder, ratioToBare: round(fromFolder.imagesPerSecond / bare) },
          orthanc: fromPacs,
          j2k2500x3000: { reduced, full, speedup: round(reduced.imagesPerSecond / full.imagesPerSecond) },
          notes:
            'runReview as `resight review` runs it (Grad-CAM for every label, a CAM PNG per positive label, one committed transaction per image). folder: hard links to the samples (640 × 768 and smaller). orthanc: the same images as distinct instances in a local Orthanc, retrieved by WADO-RS (4 in parallel) then reviewed; imagesPerSecond counts retrieve and review together. j2k: hard links to one 2,500 × 3,000 12-bit JPEG 2000 lossless radiograph, decoded at the resolution level the model needs (reduced) or in full (a subset, for time).',
        },
        null,
        2,
      ),
    );
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
