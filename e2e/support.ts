// Runs under Playwright (Node). What every browser-mode spec shares: starting the real server on
// a data folder and reading pixels back from the canvas.
import { expect, type Locator } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

/** The app root the server runs from; RESIGHT_E2E_APP_ROOT points elsewhere (dist/, assets/, models/). */
export const APP_ROOT = resolve(process.env.RESIGHT_E2E_APP_ROOT ?? join(__dirname, '..'));
export const SHOTS = join(__dirname, 'screenshots');
const SERVER_ENTRY = join(APP_ROOT, 'dist/server/web.cjs');
const URL_LINE = /Resight browser mode: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]+))/;

export interface Server {
  url: string;
  origin: string;
  token: string;
  stop(): Promise<void>;
}

/** Starts `node dist/server/web.cjs --port 0 --data-dir <dir>` and resolves with the URL it prints. */
export function startServer(dataDir: string): Promise<Server> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` first.`);
  const proc = spawn(process.execPath, [SERVER_ENTRY, '--port', '0', '--data-dir', dataDir], { cwd: APP_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
  };
  let output = '';
  return new Promise<Server>((resolveServer, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the server printed no URL within 60 s; it said:\n${output.slice(-2000)}`));
    }, 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = URL_LINE.exec(output);
      if (!m) return;
      clearTimeout(timer);
      const [, url, port, token] = m as unknown as [string, string, string, string];
      resolveServer({ url, origin: `http://127.0.0.1:${port}`, token, stop });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before printing its URL:\n${output.slice(-2000)}`));
    });
  });
}

export interface Pixels {
  data: Buffer;
  width: number;
  height: number;
}

/** A screenshot of the canvas element as RGB pixels (saved under e2e/screenshots when named). */
export async function canvasPixels(canvas: Locator, name?: string): Promise<Pixels> {
  const png = await canvas.screenshot(name ? { path: join(SHOTS, name) } : {});
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Fraction of pixels whose colour differs by more than a few levels in any channel. */
export function changedFraction(a: Pixels, b: Pixels): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let changed = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    for (let c = 0; c < 3; c++) {
      if (Math.abs((a.data[i * 3 + c] as number) - (b.data[i * 3 + c] as number)) > 3) {
        changed++;
        break;
      }
    }
  }
  return changed / (a.width * a.height);
}
