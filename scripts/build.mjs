// Builds every runtime target: Electron main + preload, the inference host, the browser-mode
// server, the CLI (esbuild), and the renderer (Vite). Output layout is relied on by entries.
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';
import { chmodSync, copyFileSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// The codec packages load their .wasm beside their own script, so they stay in node_modules.
const external = [
  'electron',
  'better-sqlite3-multiple-ciphers',
  'onnxruntime-node',
  'sharp',
  '@cornerstonejs/codec-openjpeg',
  '@cornerstonejs/codec-openjph',
  '@cornerstonejs/codec-charls',
  '@cornerstonejs/codec-libjpeg-turbo-8bit',
];
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external,
  define: { __RESIGHT_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
};

const only = process.argv[2];
const targets = [
  { entryPoints: ['main/electron/main.ts'], outfile: 'dist/electron/main.cjs' },
  { entryPoints: ['preload/index.ts'], outfile: 'dist/electron/preload.cjs', platform: 'node', external: ['electron'] },
  { entryPoints: ['main/inference/host/entry.ts'], outfile: 'dist/host/inference-host.cjs' },
  { entryPoints: ['main/server/main.ts'], outfile: 'dist/server/web.cjs' },
  // Found by main/imaging/pool.ts relative to every bundle above.
  { entryPoints: ['main/imaging/worker.ts'], outfile: 'dist/imaging/decode-worker.cjs' },
  { entryPoints: ['main/cli/main.ts'], outfile: 'dist/cli/resight.cjs', banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['bench/pipeline.ts'], outfile: 'dist/bench/pipeline.cjs' },
  { entryPoints: ['bench/inference.ts'], outfile: 'dist/bench/inference.cjs' },
  { entryPoints: ['bench/imaging.ts'], outfile: 'dist/bench/imaging.cjs' },
  { entryPoints: ['bench/batch.ts'], outfile: 'dist/bench/batch.cjs' },
  { entryPoints: ['bench/memory.ts'], outfile: 'dist/bench/memory.cjs', external: [...external, '@playwright/test', 'playwright-core'] },
  // Drives Debian's Chromium through Playwright, which stays in node_modules.
  { entryPoints: ['bench/viewer.ts'], outfile: 'dist/bench/viewer.cjs', external: [...external, '@playwright/test', 'playwright-core'] },
];

if (only !== 'renderer') await Promise.all(targets.map((t) => build({ ...common, ...t })));
if (only !== 'main') await viteBuild({ configFile: 'renderer/vite.config.mts', logLevel: 'warn' });
if (only !== 'renderer') {
  chmodSync('dist/cli/resight.cjs', 0o755);
  // Decoded by each decode worker at start (main/imaging/worker.ts), so it lives beside the worker.
  copyFileSync('assets/codec-warmup/cxr-normal-cr.j2k.dcm', 'dist/imaging/codec-warmup.j2k.dcm');
}
console.log('built dist/');
