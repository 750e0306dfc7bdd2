// Builds dist/ when it is missing, so `npm run web` works straight after `npm ci`.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const needed = ['dist/server/web.cjs', 'dist/host/inference-host.cjs', 'dist/renderer/index.html'];
if (!needed.every((f) => existsSync(f))) {
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
