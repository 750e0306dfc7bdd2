// Runs under Node (`npm run bench:memory`). Memory of the backend (what runs in Electron's main
// process and in the browser-mode server) while a 100-image CR study is opened image by image, each
// frame fetched as the viewer fetches it, under a frame-cache budget set through the settings call.
// Prints JSON: the budget, the decoded bytes held, the peak RSS and the RSS before opening.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackend } from '../main/api/backend';
import { fixturesScript } from '../main/imaging/testdata/fixtures';
import { forkSpawner } from '../main/inference/host/fork';

const root = path.resolve(__dirname, '..', '..');
const IMAGES = Number(process.env.RESIGHT_BENCH_IMAGES ?? 100);
const BUDGET_MB = Number(process.env.RESIGHT_BENCH_BUDGET_MB ?? 512);
const ROWS = 3000;
const COLUMNS = 2500;
const mb = (bytes: number): number => Math.round(bytes / 1024 ** 2);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-bench-memory-'));
  try {
    const big = path.join(dir, 'big.dcm');
    execFileSync('/usr/bin/python3', [fixturesScript, 'big', big, String(ROWS), String(COLUMNS)]);
    // Distinct files (the cache keys images by content): the last pixel differs in each.
    const bytes = readFileSync(big);
    const study = path.join(dir, 'study');
    mkdirSync(study);
    const files = Array.from({ length: IMAGES }, (_, i) => {
      const copy = Buffer.from(bytes);
      copy.writeUInt16LE(i, copy.length - 2);
      const file = path.join(study, `${String(i).padStart(3, '0')}.dcm`);
      writeFileSync(file, copy);
      return file;
    });
    const backend = await createBackend({
      dataDir: path.join(dir, 'data'),
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
    let peakRss = before;
    let peakHeld = 0;
    const t = performance.now();
    for (const file of files) {
      const info = await backend.handlers['studies.openFile']({ path: file }, ctx);
      await backend.handlers['studies.getFrame']({ imageId: info.imageId, frame: 0 }, ctx);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      peakHeld = Math.max(peakHeld, backend.cache.bytes);
    }
    const seconds = (performance.now() - t) / 1000;
    const decodedPerImage = ROWS * COLUMNS * 2;
    console.log(
      JSON.stringify(
        {
          benchmark: 'memory',
          study: { images: IMAGES, rows: ROWS, columns: COLUMNS, bitsAllocated: 16, decodedMBPerImage: mb(decodedPerImage), decodedMBAll: mb(decodedPerImage * IMAGES) },
          frameCacheBudgetMB: BUDGET_MB,
          peakCacheHeldMB: mb(peakHeld),
          cacheWithinBudget: peakHeld <= BUDGET_MB * 1024 ** 2,
          imagesHeldAtEnd: backend.cache.size,
          rssBeforeMB: mb(before),
          peakRssMB: mb(Math.max(peakRss, process.resourceUsage().maxRSS * 1024)),
          peakRssOverBudgetMB: mb(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) - before) - BUDGET_MB,
          secondsToOpenAll: Math.round(seconds * 10) / 10,
          notes:
            'The backend in one Node process (as in the browser-mode server; in Electron it is the main process). Each image is opened and its full frame fetched as the viewer does, the cache budget set through settings.set. Peak RSS includes the decode workers, transient buffers of the image being decoded, and V8; the renderer process is measured by bench:viewer.',
        },
        null,
        2,
      ),
    );
    await backend.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
