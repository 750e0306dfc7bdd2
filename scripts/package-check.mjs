// Runs under plain Node (`npm run package:check`, in .ci/run). Packs the built app for Linux with
// the real electron-builder and the real electron-builder.yml, offline: a stand-in Electron binary
// (carrying Electron's fuse wire) replaces the runtime download, and the native rebuild is skipped
// (it needs Electron's headers). Then checks what a hospital would install: the asar contents, the
// unpacked native modules, the extra resources and the fuses the afterPack hook set.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const builder = require('electron-builder');
const asar = createRequire(require.resolve('electron-builder/package.json'))('@electron/asar');
const { FuseV1Options } = require('@electron/fuses');
const afterPack = require('./after-pack.cjs');

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const FUSES = 9;

if (!existsSync(path.join(root, 'dist', 'electron', 'main.cjs')) || !existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) {
  console.error('Build first: npm run build');
  process.exit(1);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'resight-package-check-'));
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

try {
  const electronDist = path.join(work, 'electron');
  mkdirSync(path.join(electronDist, 'resources'), { recursive: true });
  // All fuses on, as in a fresh Electron download; afterPack must turn the right ones off.
  writeFileSync(path.join(electronDist, 'electron'), Buffer.concat([Buffer.from('stand-in electron '), Buffer.from(SENTINEL), Buffer.from([1, FUSES]), Buffer.from('1'.repeat(FUSES))]), { mode: 0o755 });
  writeFileSync(path.join(electronDist, 'LICENSE'), 'stand-in');
  const output = path.join(work, 'release');
  await builder.build({
    projectDir: root,
    targets: builder.Platform.LINUX.createTarget('dir', builder.Arch.x64),
    config: { npmRebuild: false, electronDist, directories: { output } },
  });

  const appDir = path.join(output, 'linux-unpacked');
  const resources = path.join(appDir, 'resources');
  const files = new Set(asar.listPackage(path.join(resources, 'app.asar')).map((f) => f.split(path.sep).join('/').replace(/^\//, '')));
  for (const f of ['package.json', 'dist/electron/main.cjs', 'dist/electron/preload.cjs', 'dist/host/inference-host.cjs', 'dist/renderer/index.html', 'dist/imaging/decode-worker.cjs']) {
    check(files.has(f), `app.asar lacks ${f}`);
  }
  const unwanted = [...files].filter((f) => /^(models|assets|main|preload|renderer|e2e|bench|scripts)\//.test(f) || f.startsWith('dist/bench/') || (f.startsWith('dist/') && f.endsWith('.map')) || f.startsWith('node_modules/electron/'));
  check(unwanted.length === 0, `app.asar holds files that must not ship: ${unwanted.slice(0, 5).join(', ')}`);

  const unpacked = path.join(resources, 'app.asar.unpacked');
  const ortBin = path.join(unpacked, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
  check(existsSync(path.join(ortBin, 'linux', 'x64', 'onnxruntime_binding.node')), 'onnxruntime-node binding not unpacked');
  check(existsSync(ortBin) && readdirSync(ortBin).every((p) => p === 'linux'), 'onnxruntime-node ships other platforms');
  check(existsSync(path.join(unpacked, 'node_modules', 'better-sqlite3-multiple-ciphers', 'build', 'Release', 'better_sqlite3.node')), 'SQLite addon (better-sqlite3-multiple-ciphers) not unpacked');
  check(existsSync(path.join(unpacked, 'node_modules', 'sharp')) && existsSync(path.join(unpacked, 'node_modules', '@img')), 'sharp not unpacked');
  check(existsSync(path.join(unpacked, 'dist', 'imaging', 'decode-worker.cjs')), 'decode worker not unpacked');
  check(existsSync(path.join(unpacked, 'dist', 'imaging', 'codec-warmup.j2k.dcm')), 'the decode worker\'s JPEG 2000 warm-up film is not unpacked beside it');
  const codecs = path.join(unpacked, 'node_modules', '@cornerstonejs');
  check(existsSync(codecs) && readdirSync(codecs).some((c) => c.startsWith('codec-')), 'WASM codecs not unpacked');

  const shippedModels = readdirSync(path.join(root, 'models')).filter((f) => /\.(onnx|json)$/.test(f));
  for (const f of shippedModels) check(existsSync(path.join(resources, 'models', f)), `resources/models lacks ${f}`);
  check(!existsSync(path.join(resources, 'models', 'training')), 'model training code ships');
  check(existsSync(path.join(resources, 'samples')) && readdirSync(path.join(resources, 'samples')).length > 0, 'resources/samples is empty');

  const binary = readFileSync(path.join(appDir, 'resight'));
  const at = binary.indexOf(SENTINEL) + SENTINEL.length + 2;
  const wire = binary.subarray(at, at + FUSES).toString('latin1');
  const wanted = afterPack.resightFuses({ release: process.env[afterPack.DEBUG_PACKAGE_ENV] !== '1' });
  for (const [key, on] of Object.entries(wanted)) {
    if (Number.isInteger(Number(key))) check(wire[Number(key)] === (on ? '1' : '0'), `fuse ${FuseV1Options[Number(key)]} is not ${on ? 'on' : 'off'}`);
  }
  console.log(`Packed ${files.size} files into app.asar; fuse wire ${wire}; ${shippedModels.length} model files and the samples in resources/.`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  for (const f of failures) console.error(`FAIL ${f}`);
  process.exit(1);
}
console.log('The Linux package holds what it should, with the fuses set.');
