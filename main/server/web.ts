// Runs in the browser-mode server process. Starts the backend and the loopback server together:
// `npm run web` and `resight web` both come here.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionProvider } from '../../preload/api';
import { createBackend } from '../api/backend';
import { forkSpawner } from '../inference/host/fork';
import { startServer, type RunningServer } from './http-server';

export interface WebOptions {
  port: number;
  dataDir?: string;
  provider?: ExecutionProvider;
  threads?: number;
  /** Repository or install root holding dist/, models/ and assets/samples/. */
  appRoot: string;
}

export function defaultDataDir(): string {
  return path.join(os.homedir(), '.resight');
}

export async function runWebServer(opts: WebOptions): Promise<RunningServer & { dataDir: string }> {
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
  const log = (line: string): void => console.error(`[resight] ${line}`);
  const backend = await createBackend({
    dataDir,
    modelsDir: path.join(opts.appRoot, 'models'),
    samplesDir: path.join(opts.appRoot, 'assets', 'samples'),
    frontDoor: 'browser',
    hostSpawner: forkSpawner(path.join(opts.appRoot, 'dist', 'host', 'inference-host.cjs')),
    log,
    inference: { ...(opts.provider ? { provider: opts.provider } : {}), ...(opts.threads ? { threads: opts.threads } : {}) },
  });
  const server = await startServer({
    handlers: backend.handlers,
    events: backend.events,
    token: randomBytes(24).toString('hex'),
    rendererDir: path.join(opts.appRoot, 'dist', 'renderer'),
    port: opts.port,
    reader: os.userInfo().username || 'reader',
    log,
  });
  return {
    ...server,
    dataDir,
    close: async () => {
      await server.close();
      await backend.close();
    },
  };
}
