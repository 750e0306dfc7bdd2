// Runs as `node dist/bench/imaging.cjs` (after `node scripts/build.mjs main`). Decode time of a
// 2,500 × 3,000 16-bit radiograph in each encoding: Resight in-process and through the worker
// pool, the bare codec call on the same bytes, dcmtk / GDCM command-line decodes of the same file,
// and the time to the first displayable frame. Prints JSON; never asserts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeHTJ2K, decodeJ2K, decodeJpegLossless, decodeJpegLS, decodeRle } from '../main/imaging/codecs';
import { parseDicomFile } from '../main/imaging/dicom';
import { decodeDicom } from '../main/imaging/image';
import { loadImage } from '../main/imaging/load';
import { DecodePool } from '../main/imaging/pool';
import { encodeHtj2k, fixturesScript } from '../main/imaging/testdata/fixtures';
import { displayIntensities } from '../main/imaging/voi';

const ROWS = 3000;
const COLUMNS = 2500;
const RUNS = Number(process.env.RESIGHT_BENCH_RUNS ?? 3);
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
  /** Command-line decodes of the same file to native: [tool, args before in/out]. */
  tools: Array<[string, string[]]>;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-bench-'));
  const f = (n: string): string => path.join(dir, `${n}.dcm`);
  execFileSync('/usr/bin/python3', [fixturesScript, 'big', f('big'), String(ROWS), String(COLUMNS)]);
  execFileSync('dcmcrle', [f('big'), f('rle')]);
  execFileSync('dcmcjpeg', ['+e1', f('big'), f('jpeg-lossless')]);
  execFileSync('dcmcjpls', [f('big'), f('jpegls')]);
  execFileSync('gdcmconv', ['--j2k', f('big'), f('j2k')]);
  execFileSync('gdcmconv', ['--j2k', '--lossy', '-r', '10', f('big'), f('j2k-lossy')]);
  const ht = await encodeHtj2k(dir, 'big');
  const gdcm: [string, string[]] = ['gdcmconv', ['--raw']];
  const encodings: Encoding[] = [
    { name: 'Explicit VR Little Endian', file: f('big'), tools: [] },
    { name: 'RLE Lossless', file: f('rle'), bare: (b) => decodeRle(b, COLUMNS, ROWS, 1, 2), tools: [['dcmdrle', []], gdcm] },
    { name: 'JPEG Lossless SV1', file: f('jpeg-lossless'), bare: (b) => decodeJpegLossless(b, 2), tools: [['dcmdjpeg', []], gdcm] },
    { name: 'JPEG-LS Lossless', file: f('jpegls'), bare: (b) => decodeJpegLS(b, false), tools: [['dcmdjpls', []], gdcm] },
    { name: 'JPEG 2000 Lossless', file: f('j2k'), bare: (b) => decodeJ2K(b, false), tools: [gdcm] },
    { name: 'JPEG 2000 (lossy)', file: f('j2k-lossy'), bare: (b) => decodeJ2K(b, false), tools: [gdcm] },
    { name: 'HTJ2K Lossless', file: ht, bare: (b) => decodeHTJ2K(b, false), tools: [] },
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
      commandLineMs: tools,
    });
  }
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify(
      {
        benchmark: 'imaging-decode',
        image: { rows: ROWS, columns: COLUMNS, bitsAllocated: 16, bitsStored: 12 },
        runs: RUNS,
        node: process.version,
        cpus: os.cpus().length,
        notes:
          'bareCodecMs: the codec call alone on the frame bytes (WASM decode + copy out). resightInProcessMs: parse + decode + stored values + window, no worker. resightPoolMs: loadImage through the worker pool (read, sha256, decode, transfer). commandLineMs include process start and writing the output file.',
        results,
      },
      null,
      2,
    ),
  );
}

void main();
