// Runs as `node dist/bench/imaging.cjs` (after `node scripts/build.mjs main`). Decode time of a
// 2,500 × 3,000 12-bit radiograph in each encoding: Resight in-process and through the worker
// pool, the bare codec call on the same bytes, dcmtk / GDCM command-line decodes of the same file,
// the time to the first displayable frame, and the time to the model's input (224 × 224) with the
// reduced decode against the full one. Then batch throughput over many J2K radiographs, reduced
// against full decode in the same run (the full run over fewer images: it takes seconds each).
// Prints JSON; never asserts.
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeHTJ2K, decodeJ2K, decodeJpegBaseline, decodeJpegLossless, decodeJpegLS, decodeRle } from '../main/imaging/codecs';
import { parseDicomFile } from '../main/imaging/dicom';
import { decodeDicom } from '../main/imaging/image';
import { loadFrameForSize, loadImage, reducedFrameCache } from '../main/imaging/load';
import { DecodePool } from '../main/imaging/pool';
import { encodeHtj2k, fixturesScript } from '../main/imaging/testdata/fixtures';
import { displayIntensities, reducedIntensities } from '../main/imaging/voi';
import { analyseMany, decodeTargetFor, type BatchDecode } from '../main/inference/batch';
import { parseModelCard } from '../main/inference/card';
import { HostClient } from '../main/inference/host/client';
import { forkSpawner } from '../main/inference/host/fork';
import { preprocess } from '../main/inference/preprocess';
import { defaultThreads } from '../main/inference/providers';
import { ModelRegistry, type LoadedModel } from '../main/inference/registry';

const ROWS = 3000;
const COLUMNS = 2500;
const RUNS = Number(process.env.RESIGHT_BENCH_RUNS ?? 3);
const BATCH_IMAGES = Number(process.env.RESIGHT_BENCH_IMAGES ?? 200);
const BATCH_FULL_IMAGES = Number(process.env.RESIGHT_BENCH_FULL_IMAGES ?? 12);
const root = path.resolve(__dirname, '..', '..');
/** The model's input as the bundled card declares it; only its size and normalisation matter here. */
const card = parseModelCard(
  {
    schema: 'resight.model-card/1',
    id: 'bench',
    version: '1',
    file: 'bench.onnx',
    task: 'multilabel',
    labels: [{ id: 'a', name: 'A' }],
    input: { name: 'input', height: 224, width: 224, channels: 3, normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
    outputs: { logits: 'logits', features: 'features' },
    cam: { weight: 'fc.weight' },
  },
  'bench.json',
);
/** What inference decodes for that input (twice its size: see decodeTargetFor). */
const target = decodeTargetFor(card);
const inputSize = { width: card.input.width, height: card.input.height };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);

async function timeIt(fn: () => unknown): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    runs.push(performance.now() - t);
  }
  return median(runs);
}

function timeCommand(cmd: string, args: string[]): number | null {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    try {
      execFileSync(cmd, args, { stdio: 'ignore' });
    } catch {
      return null;
    }
    runs.push(performance.now() - t);
  }
  return median(runs);
}

interface Encoding {
  name: string;
  file: string;
  bare?: (frame: Uint8Array) => unknown;
  /** The bare codec call decoding only the resolution levels inference needs. */
  bareReduced?: (frame: Uint8Array) => unknown;
  /** The same at the smallest level covering the input size itself (one level less). */
  bareAtInput?: (frame: Uint8Array) => unknown;
  /** Command-line decodes of the same file to native: [tool, args before in/out]. */
  tools: Array<[string, string[]]>;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-bench-'));
  const f = (n: string): string => path.join(dir, `${n}.dcm`);
  execFileSync('/usr/bin/python3', [fixturesScript, 'big', f('big'), String(ROWS), String(COLUMNS)]);
  execFileSync('dcmcrle', [f('big'), f('rle')]);
  execFileSync('dcmcjpeg', ['+e1', f('big'), f('jpeg-lossless')]);
  execFileSync('dcmcjpeg', ['+ee', f('big'), f('jpeg-extended')]);
  execFileSync('dcmcjpls', [f('big'), f('jpegls')]);
  execFileSync('gdcmconv', ['--j2k', f('big'), f('j2k')]);
  execFileSync('gdcmconv', ['--j2k', '--lossy', '-r', '10', f('big'), f('j2k-lossy')]);
  const ht = await encodeHtj2k(dir, 'big');
  const gdcm: [string, string[]] = ['gdcmconv', ['--raw']];
  const full2k = { width: COLUMNS, height: ROWS, target };
  const full2kAtInput = { width: COLUMNS, height: ROWS, target: inputSize };
  const encodings: Encoding[] = [
    { name: 'Explicit VR Little Endian', file: f('big'), tools: [] },
    { name: 'RLE Lossless', file: f('rle'), bare: (b) => decodeRle(b, COLUMNS, ROWS, 1, 2), tools: [['dcmdrle', []], gdcm] },
    { name: 'JPEG Lossless SV1', file: f('jpeg-lossless'), bare: (b) => decodeJpegLossless(b, 2), tools: [['dcmdjpeg', []], gdcm] },
    { name: 'JPEG Extended 12-bit (lossy)', file: f('jpeg-extended'), bare: (b) => decodeJpegBaseline(b), tools: [['dcmdjpeg', []], gdcm] },
    { name: 'JPEG-LS Lossless', file: f('jpegls'), bare: (b) => decodeJpegLS(b, false), tools: [['dcmdjpls', []], gdcm] },
    {
      name: 'JPEG 2000 Lossless',
      file: f('j2k'),
      bare: (b) => decodeJ2K(b, false),
      bareReduced: (b) => decodeJ2K(b, false, full2k),
      bareAtInput: (b) => decodeJ2K(b, false, full2kAtInput),
      tools: [gdcm],
    },
    { name: 'JPEG 2000 (lossy)', file: f('j2k-lossy'), bare: (b) => decodeJ2K(b, false), bareReduced: (b) => decodeJ2K(b, false, full2k), tools: [gdcm] },
    { name: 'HTJ2K Lossless', file: ht, bare: (b) => decodeHTJ2K(b, false), bareReduced: (b) => decodeHTJ2K(b, false, full2k), tools: [] },
  ];
  const pool = new DecodePool({ size: 1 });
  const results: unknown[] = [];
  for (const e of encodings) {
    const bytes = new Uint8Array(readFileSync(e.file));
    const frame = parseDicomFile(bytes).encodedFrame(0).slice();
    if (e.bare) await e.bare(frame); // compile and warm the codec once
    await decodeDicom(bytes);
    const bareMs = e.bare ? await timeIt(() => e.bare!(frame)) : null;
    const inProcessMs = await timeIt(() => decodeDicom(bytes));
    await loadImage(e.file, { pool });
    const poolMs = await timeIt(() => loadImage(e.file, { pool }));
    const firstFrameMs = await timeIt(async () => {
      const img = await loadImage(e.file, { pool });
      displayIntensities(img.frame(0), img.info);
    });
    // To the model's input tensor: reduced decode (a cache that keeps nothing, so every run decodes)…
    const noCache = reducedFrameCache(0);
    const reduced = await loadFrameForSize(e.file, target, { pool, cache: noCache });
    const inferenceDecodeMs = await timeIt(() => loadFrameForSize(e.file, target, { pool, cache: noCache }));
    const inferenceInputMs = await timeIt(async () => {
      const f = await loadFrameForSize(e.file, target, { pool, cache: noCache });
      preprocess(card, reducedIntensities(f), f.width, f.height);
    });
    // …against the full decode (resightPoolMs) plus display intensities and resize of every pixel.
    const full = await loadImage(e.file, { pool });
    const fullResizeMs = await timeIt(() => preprocess(card, displayIntensities(full.frame(0), full.info), full.info.width, full.info.height));
    const out = path.join(dir, 'out.dcm');
    const tools = Object.fromEntries(e.tools.map(([tool, args]) => [tool, round(timeCommand(tool, [...args, e.file, out]))]));
    results.push({
      encoding: e.name,
      fileBytes: bytes.length,
      bareCodecMs: round(bareMs),
      resightInProcessMs: round(inProcessMs),
      resightPoolMs: round(poolMs),
      overheadOverBareCodec: bareMs ? Math.round((inProcessMs / bareMs) * 100) / 100 : null,
      firstDisplayableFrameMs: round(firstFrameMs),
      inference: {
        decodedSize: [reduced.width, reduced.height],
        bareReducedCodecMs: e.bareReduced ? round(await timeIt(() => e.bareReduced!(frame))) : null,
        ...(e.bareAtInput ? { bareCodecAtInputSizeLevelMs: round(await timeIt(() => e.bareAtInput!(frame))) } : {}),
        decodeMs: round(inferenceDecodeMs),
        inputMs: round(inferenceInputMs),
        fullDecodeInputMs: round(poolMs + fullResizeMs),
        speedup: Math.round(((poolMs + fullResizeMs) / inferenceInputMs) * 10) / 10,
      },
      commandLineMs: tools,
    });
  }
  await pool.close();
  const batch = await batchThroughput(dir, f('j2k'));
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify(
      {
        benchmark: 'imaging-decode',
        image: { rows: ROWS, columns: COLUMNS, bitsAllocated: 16, bitsStored: 12 },
        runs: RUNS,
        node: process.version,
        cpus: os.cpus().length,
        batch,
        notes:
          'inference: the model input (224 × 224) through the worker pool, decoded for twice that size as inference does (bareReducedCodecMs: the codec call alone at that level; bareCodecAtInputSizeLevelMs: one level smaller, the smallest covering 224 px, which inference does not use because it moved probabilities by up to 0.02); decodedSize is what the reduced decode produced (a JPEG 2000 resolution level, or the area-averaged size for other encodings); fullDecodeInputMs is resightPoolMs plus display intensities and resize of the full frame. batch: analyseMany (decode in the pool overlapping inference in the host process, as `resight review` runs) with the bundled model, or decode + preprocess alone when no model is installed. bareCodecMs: the codec call alone on the frame bytes (WASM decode + copy out). resightInProcessMs: parse + decode + stored values + window, no worker. resightPoolMs: loadImage through the worker pool (read, sha256, decode, transfer). commandLineMs include process start and writing the output file.',
        results,
      },
      null,
      2,
    ),
  );
}

/** Images per second through batch inference over hard links to one J2K radiograph (distinct paths, so no cache hits). */
async function batchThroughput(dir: string, j2k: string): Promise<unknown> {
  const links = path.join(dir, 'batch');
  mkdirSync(links);
  const files = Array.from({ length: BATCH_IMAGES }, (_, i) => {
    const p = path.join(links, `${i}.dcm`);
    linkSync(j2k, p);
    return p;
  });
  let model: LoadedModel | undefined;
  try {
    model = await new ModelRegistry([process.env.RESIGHT_BENCH_MODELS_DIR ?? path.join(root, 'models')]).active();
  } catch {
    model = undefined;
  }
  const client = model ? new HostClient(forkSpawner(path.join(root, 'dist', 'host', 'inference-host.cjs'))) : undefined;
  const settings = { provider: 'cpu' as const, threads: defaultThreads() };
  const run = async (decode: BatchDecode, subset: string[]): Promise<{ images: number; seconds: number; imagesPerSecond: number }> => {
    const t = performance.now();
    if (client && model) {
      for await (const items of analyseMany(client, model, subset, settings, { decode })) {
        if (items.some((i) => i.error)) throw new Error(items.find((i) => i.error)!.error!.message);
      }
    } else {
      for (const file of subset) {
        if (decode === 'full') {
          const img = await loadImage(file);
          preprocess(card, displayIntensities(img.frame(0), img.info), img.info.width, img.info.height);
        } else {
          const fr = await loadFrameForSize(file, target);
          preprocess(card, reducedIntensities(fr), fr.width, fr.height);
        }
      }
    }
    const seconds = (performance.now() - t) / 1000;
    return { images: subset.length, seconds: round(seconds)!, imagesPerSecond: Math.round((subset.length / seconds) * 100) / 100 };
  };
  // Warm the codec, the pool and the host once outside the timings.
  await run('reduced', files.slice(0, 1));
  const reduced = await run('reduced', files);
  const full = await run('full', files.slice(0, Math.min(BATCH_FULL_IMAGES, files.length)));
  await client?.close();
  return {
    encoding: 'JPEG 2000 Lossless',
    model: model ? `${model.card.id} ${model.card.version}` : null,
    provider: settings.provider,
    threads: settings.threads,
    reduced,
    full,
    speedup: Math.round((reduced.imagesPerSecond / full.imagesPerSecond) * 10) / 10,
  };
}

void main();
