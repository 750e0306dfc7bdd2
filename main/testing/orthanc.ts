// Runs in tests only. A real Orthanc with its DICOMweb plugin on 127.0.0.1: free HTTP port, no DICOM
// listener, storage in a temporary folder, basic authentication on. stop() ends it by its PID; an
// exit hook and a watchdog do the same if the test process ends first, so no Orthanc outlives the suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, openSync, readFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ORTHANC_BINARY = process.env.RESIGHT_ORTHANC ?? '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = process.env.RESIGHT_ORTHANC_DICOMWEB ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancServer {
  /** DICOMweb root, ending in /dicom-web/ */
  url: string;
  /** Orthanc's own REST API root (no trailing slash). */
  rest: string;
  user: string;
  password: string;
  /** HTTP port, for a proxy placed in front. */
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Whether the PACS tests can run here. On a developer's machine without Orthanc they are skipped;
 * under CI (.ci/run installs Orthanc and sets CI) a missing Orthanc is a failure, not a skip, so
 * the PACS tests can never pass by not running.
 */
export const orthancAvailable = (): boolean => (existsSync(ORTHANC_BINARY) && existsSync(DICOMWEB_PLUGIN)) || !!process.env.CI;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(dir: string, user: string, password: string, auth: boolean): Promise<OrthancServer | undefined> {
  const port = await freePort();
  const config = {
    Name: 'ResightTest',
    HttpPort: port,
    HttpBindAddress: '127.0.0.1',
    DicomServerEnabled: false,
    StorageDirectory: path.join(dir, 'storage'),
    IndexDirectory: path.join(dir, 'index'),
    RemoteAccessAllowed: false,
    AuthenticationEnabled: auth,
    RegisteredUsers: auth ? { [user]: password } : {},
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
  };
  const configFile = path.join(dir, 'orthanc.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const log = openSync(path.join(dir, 'orthanc.log'), 'a');
  const child = spawn(ORTHANC_BINARY, [configFile], { stdio: ['ignore', log, log] });
  closeSync(log);
  running.add(child);
  child.once('exit', () => running.delete(child));
  // The exit hook does not run when the test process is SIGKILLed; this watchdog still ends Orthanc.
  const watchdog = spawn(
    '/bin/sh',
    ['-c', `while kill -0 ${process.pid} && kill -0 ${child.pid}; do sleep 1; done 2>/dev/null; kill -0 ${child.pid} 2>/dev/null && kill -9 ${child.pid}`],
    { stdio: 'ignore', detached: true },
  );
  watchdog.unref();
  const rest = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(killer);
    }
  };
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return undefined; // port taken between probe and start
    try {
      const res = await fetch(`${rest}/dicom-web/studies`, { headers: { authorization }, signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return { url: `${rest}/dicom-web/`, rest, user, password, port, pid: child.pid!, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`Orthanc did not answer within 30 s; see ${path.join(dir, 'orthanc.log')}`);
}

/**
 * Starts Orthanc with the DICOMweb plugin; stop() ends it and removes its folder. `auth: false`
 * serves without authentication, for browser mode, which cannot store credentials (no keychain).
 */
export async function startOrthanc(opts: { auth?: boolean } = {}): Promise<OrthancServer> {
  if (!existsSync(ORTHANC_BINARY) || !existsSync(DICOMWEB_PLUGIN)) {
    throw new Error(`Orthanc (${ORTHANC_BINARY}) or its DICOMweb plugin (${DICOMWEB_PLUGIN}) is missing: apt-get install orthanc orthanc-dicomweb.`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'resight-orthanc-'));
  const user = 'resight';
  const password = randomBytes(12).toString('hex');
  for (let tries = 0; tries < 3; tries++) {
    const server = await launch(dir, user, password, opts.auth ?? true);
    if (server)
      return {
        ...server,
        stop: async () => {
          await server.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
  }
  const log = readFileSync(path.join(dir, 'orthanc.log'), 'utf8').split('\n').slice(-5).join('\n');
  await rm(dir, { recursive: true, force: true });
  throw new Error(`Orthanc exited at start three times:\n${log}`);
}

/** Uploads Part 10 files through Orthanc's REST API (POST /instances), as a PACS would receive them. */
export async function uploadToOrthanc(server: OrthancServer, files: Uint8Array[]): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${server.user}:${server.password}`).toString('base64')}`;
  for (const body of files) {
    // A copy on a plain ArrayBuffer: the DOM's BodyInit (the e2e specs import this file) refuses a view of ArrayBufferLike.
    const res = await fetch(`${server.rest}/instances`, { method: 'POST', headers: { authorization, 'content-type': 'application/dicom' }, body: new Uint8Array(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`Orthanc refused an upload: HTTP ${res.status} ${text.slice(0, 200)}`);
  }
}

/** Orthanc's REST API, authenticated: GET a JSON resource. */
export async function orthancGet(server: OrthancServer, resource: string): Promise<unknown> {
  const authorization = `Basic ${Buffer.from(`${server.user}:${server.password}`).toString('base64')}`;
  const res = await fetch(`${server.rest}${resource}`, { headers: { authorization } });
  if (!res.ok) throw new Error(`Orthanc GET ${resource}: HTTP ${res.status}`);
  return res.json();
}
