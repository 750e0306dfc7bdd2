// Runs under plain Node (`npm start`): builds if needed, then opens the desktop window in the
// Electron runtime, or says in one sentence why it cannot and what to use instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

// Set, it would make Electron behave as plain Node and never open a window.
const env = { ...process.env };
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
