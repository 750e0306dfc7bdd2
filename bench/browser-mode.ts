// Runs under Node in the benchmarks that drive the app in Chromium (bench/viewer, bench/memory):
// the browser-mode server started as a user starts it, and Debian's Chromium with software WebGL.
import { chromium, type Browser } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const APP_ROOT = process.env.RESIGHT_APP_ROOT ?? path.resolve(__dirname, '..', '..');
const URL_LINE = /Resight browser mode: (http:\/\/127\.0\.0\.1:\d+\/\?token=([0-9a-f]+))/;

export interface BenchServer {
  url: string;
  token: string;
  process: ChildProcess;
  stop(): void;
}

/** `node dist/server/web.cjs --port 0 --data-dir <dir>`, resolved with the URL it prints. */
export function startServer(dataDir: string): Promise<BenchServer> {
  const entry = path.join(APP_ROOT, 'dist/server/web.cjs');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first.`);
  const proc = spawn(process.execPath, [entry, '--port', '0', '--data-dir', dataDir], { cwd: APP_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = URL_LINE.exec(out);
      if (m) resolve({ url: m[1]!, token: m[2]!, process: proc, stop: () => proc.kill('SIGTERM') });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`server exited (${code}): ${out.slice(-1000)}`)));
  });
}

/** Headless Chromium as the benchmarks measure it: SwiftShader WebGL, no sandbox (root). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
}
