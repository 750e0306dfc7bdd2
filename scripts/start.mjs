// Runs under plain Node (`npm start`): builds if needed, then opens the desktop window in the
// Electron runtime, or says in one sentence why it cannot and what to use instead.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const needed = ['dist/electron/main.cjs', 'dist/electron/preload.cjs', 'dist/host/inference-host.cjs', 'dist/renderer/index.html'];

if (needed.some((file) => !existsSync(join(root, file)))) {
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

/** The electron package's main export is its binary's path; it throws when the binary was never downloaded. */
function electronBinary() {
  try {
    const binary = createRequire(join(root, 'package.json'))('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const electron = electronBinary();
if (electron === null) {
  console.error(
    "Resight's desktop window needs the Electron runtime, which is not installed on this machine (its download was skipped); run `npm run web` to use Resight in your browser instead.",
  );
  process.exit(1);
}

const SQLITE = 'better-sqlite3-multiple-ciphers';

/**
 * The SQLite addon is compiled against Node's ABI (the tests use it); Electron needs its own build.
 * Build one copy for this Electron version in .cache/ (once), and hand its path to the app.
 */
function electronSqliteBinding() {
  const require = createRequire(join(root, 'package.json'));
  const electronVersion = require('electron/package.json').version;
  const cache = join(root, '.cache', 'electron-native');
  const binding = join(cache, 'node_modules', SQLITE, 'build', 'Release', 'better_sqlite3.node');
  const stamp = join(cache, 'electron-version');
  if (existsSync(binding) && existsSync(stamp) && readFileSync(stamp, 'utf8') === electronVersion) return binding;
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(join(cache, 'node_modules'), { recursive: true });
  const sqliteDir = dirname(require.resolve(`${SQLITE}/package.json`));
  const { version } = JSON.parse(readFileSync(join(sqliteDir, 'package.json'), 'utf8'));
  writeFileSync(join(cache, 'package.json'), JSON.stringify({ name: 'resight-electron-native', private: true, dependencies: { [SQLITE]: version } }));
  cpSync(sqliteDir, join(cache, 'node_modules', SQLITE), { recursive: true });
  console.log(`Building the SQLite addon for Electron ${electronVersion} (once)…`);
  const rebuild = spawnSync(
    process.execPath,
    [require.resolve('@electron/rebuild/lib/cli.js'), '--version', electronVersion, '--module-dir', cache, '--only', SQLITE, '--force'],
    { cwd: root, stdio: 'inherit' },
  );
  if (rebuild.status !== 0 || !existsSync(binding)) {
    console.error('Resight could not build its SQLite addon for Electron (this needs a C++ toolchain and network access once); `npm run web` works without it.');
    process.exit(1);
  }
  writeFileSync(stamp, electronVersion);
  return binding;
}

// Set, it would make Electron behave as plain Node and never open a window.
const env = { ...process.env, RESIGHT_SQLITE_BINDING: electronSqliteBinding() };
delete env.ELECTRON_RUN_AS_NODE;

// Electron is given the project folder, so it reads package.json ("main": dist/electron/main.cjs)
// and takes the app's name and version from it, as the packaged app does.
const child = spawn(electron, [root, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => {
  console.error(`Resight could not start the Electron runtime: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
