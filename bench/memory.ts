// Runs under Node (`npm run bench:memory`). Memory while a 100-image CR study (3,000 × 2,500,
// 12-bit) is read image by image under a frame-cache budget set through settings.set, printed as
// JSON. Two runs: the backend alone in this process, each image opened and its full frame fetched as
// the viewer fetches it; and the whole app in browser mode, the study read in the study browser and
// stepped through with ↓ in headless Chromium, with the peak RSS of the server (what Electron's main
// process runs), the page's renderer process and the GPU process read from /proc (VmHWM).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackend } from '../main/api/backend';
import { forkSpawner } from '../main/inference/host/fork';
import { launchChromium, startServer } from './browser-mode';

const root = path.resolve(__dirname, '..', '..');
const IMAGES = Number(process.env.RESIGHT_BENCH_IMAGES ?? 100);
const BUDGET_MB = Number(process.env.RESIGHT_BENCH_BUDGET_MB ?? 512);
const ROWS = 3000;
const COLUMNS = 2500;
const mb = (bytes: number): number => Math.round(bytes / 1024 ** 2);

/** One study, one series of distinct CR images (distinct pixels, UIDs and instance numbers). */
const WRITE_SERIES = String.raw`
import sys, numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
out, n, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
study, series = generate_uid(), generate_uid()
y, x = np.mgrid[0:rows, 0:cols]
base = ((np.sin(x / 97.0) + np.cos(y / 61.0)) * 1000 + 2048).astype('<u2')
for i in range(n):
    ds = Dataset(); ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.1'
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID, ds.Modality, ds.SeriesNumber, ds.InstanceNumber = 'BENCH^MEMORY', 'BENCH', 'CR', 1, i + 1
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.PixelData = np.roll(base, i * 7, axis=1).tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(f'{out}/{i:03d}.dcm', write_like_original=False)
`;

/** Peak resident set (VmHWM) of a process, in bytes; 0 when it is gone. */
function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Chromium processes of one type (renderer, gpu-process) started after `since`. */
function chromiumPids(type: string, since: Set<number>): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && !since.has(Number(d)))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(`--type=${type}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function backendOnly(files: string[], dir: string) {
  const backend = await createBackend({
    dataDir: path.join(dir, 'data-backend'),
    modelsDir: path.join(root, 'models'),
    samplesDir: path.join(root, 'assets', 'samples'),
    frontDoor: 'browser',
    hostSpawner: forkSpawner(path.join(root, 'dist', 'host', 'inference-host.cjs')),
    log: () => {},
  });
  const ctx = { frontDoor: 'browser' as const, reader: 'bench' };
  await backend.handlers['settings.set']({ frameCacheMB: BUDGET_MB }, ctx);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peakHeld = 0;
  const t = performance.now();
  for (const file of files) {
    const info = await backend.handlers['studies.openFile']({ path: file }, ctx);
    await backend.handlers['studies.getFrame']({ imageId: info.imageId, frame: 0 }, ctx);
    peakHeld = Math.max(peakHeld, backend.cache.bytes);
  }
  const seconds = (performance.now() - t) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  await backend.close();
  return {
    rssBeforeMB: mb(before),
    peakRssMB: mb(peak),
    peakCacheHeldMB: mb(peakHeld),
    cacheWithinBudget: peakHeld <= BUDGET_MB * 1024 ** 2,
    secondsToOpenAll: Math.round(seconds * 10) / 10,
  };
}

async function wholeApp(study: string, dir: string) {
  const server = await startServer(path.join(dir, 'data-app'));
  const { url, token } = server;
  const origin = new URL(url).origin;
  const set = await fetch(`${origin}/api/settings.set`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-resight-token': token }, body: JSON.stringify({ frameCacheMB: BUDGET_MB }) });
  if (!set.ok) throw new Error(`settings.set answered ${set.status}`);
  const before = new Set(readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(url);
    await page.getByTestId('browse-path').fill(study);
    await page.getByTestId('browse-open').click();
    // A folder holding one study shows its series at once.
    await page.getByTestId('series-0').click();
    const canvas = page.getByTestId('image-canvas');
    const readout = page.getByTestId('instance-readout');
    await page.waitForFunction(() => document.querySelector('[data-testid="image-canvas"]')?.getAttribute('data-resolution') === 'full', null, { timeout: 60_000 });
    const t = performance.now();
    for (let i = 2; i <= IMAGES; i++) {
      await canvas.focus();
      await page.keyboard.press('ArrowDown');
      await readout.filter({ hasText: `Image ${i} / ${IMAGES}` }).waitFor({ timeout: 60_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid="image-canvas"]')?.getAttribute('data-resolution') === 'full', null, { timeout: 60_000 });
    }
    const seconds = (performance.now() - t) / 1000;
    const renderer = Math.max(0, ...chromiumPids('renderer', before).map(peakRss));
    const gpu = Math.max(0, ...chromiumPids('gpu-process', before).map(peakRss));
    return {
      serverPeakRssMB: mb(peakRss(server.process.pid!)),
      rendererPeakRssMB: mb(renderer),
      gpuProcessPeakRssMB: mb(gpu),
      secondsToStepThrough: Math.round(seconds * 10) / 10,
    };
  } finally {
    await browser.close();
    server.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-bench-memory-'));
  try {
    const study = path.join(dir, 'study');
    mkdirSync(study);
    execFileSync('/usr/bin/python3', ['-c', WRITE_SERIES, study, String(IMAGES), String(ROWS), String(COLUMNS)]);
    const files = readdirSync(study)
      .sort()
      .map((f) => path.join(study, f));
    const backend = await backendOnly(files, dir);
    const app = await wholeApp(study, dir);
    const decodedPerImage = ROWS * COLUMNS * 2;
    console.log(
      JSON.stringify(
        {
          benchmark: 'memory',
          study: { images: IMAGES, rows: ROWS, columns: COLUMNS, bitsStored: 12, decodedMBPerImage: mb(decodedPerImage), decodedMBAll: mb(decodedPerImage * IMAGES) },
          frameCacheBudgetMB: BUDGET_MB,
          backendInProcess: backend,
          browserMode: app,
          notes:
            'backendInProcess: createBackend in this Node process, each image opened and its full frame fetched; peak RSS includes the decode worker threads and V8. browserMode: the server (as Electron main runs the backend) and headless Chromium with software WebGL, the study read in the study browser and stepped through with ↓, each image waited for at full resolution; VmHWM per process.',
        },
        null,
        2,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
