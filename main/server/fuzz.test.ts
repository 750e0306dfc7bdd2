// Runs in Vitest (Node). Browser mode under attack: seeded hostile JSON for every call the backend
// serves, malformed requests, traversal in URLs, forged Host headers and tokens, sent over real
// HTTP to the loopback server in front of the real backend. Every API answer must be a typed JSON
// envelope (never INTERNAL) with a matching status; the server must keep answering; nothing may be
// written outside the data folder or read from outside the renderer folder.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, methodNames, TOKEN_HEADER, type MethodName } from '../../preload/api';
import { createBackend, type Backend } from '../api/backend';
import { dispatch } from '../api/dispatch';
import { forkSpawner } from '../inference/host/fork';
import { hostEntry } from '../testing/fixtures';
import { envelopeProblem, fuzzInput, fuzzSeed, hostilePaths, jsonHostileValues, makeSandbox, Rng, snapshot, snapshotDiff, type KnownGood, type Sandbox } from '../testing/fuzz';
import { startServer, type RunningServer } from './http-server';

const SEED = fuzzSeed(0xb10e5);
const CALLS_PER_METHOD = 25;
const token = 'a1'.repeat(24);

let box: Sandbox;
let backend: Backend;
let server: RunningServer;
let served: MethodName[];
let good: KnownGood;
let before: Map<string, string>;

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with full control of method, raw path and headers (fetch will not forge Host). */
function raw(method: string, rawPath: string, headers: Record<string, string | string[]>, body?: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent: false, host: '127.0.0.1', port: server.port, method, path: rawPath, headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const authed = { [TOKEN_HEADER]: token, 'content-type': 'application/json' };

/** Why an API answer is wrong, or null: JSON envelope with a known code, status agreeing with it. */
function answerProblem(a: RawAnswer, binaryOk: boolean): string | null {
  if (binaryOk && a.status === 200 && a.headers['content-type'] === 'application/octet-stream') return null;
  if (!String(a.headers['content-type']).startsWith('application/json')) return `status ${a.status} with ${a.headers['content-type']}`;
  let env: unknown;
  try {
    env = JSON.parse(a.body.toString('utf8'));
  } catch {
    return `status ${a.status}, body is not JSON`;
  }
  const problem = envelopeProblem(env);
  if (problem) return problem;
  const { ok, error } = env as { ok: boolean; error?: { code: string } };
  if (error?.code === 'INTERNAL') return 'INTERNAL';
  if (ok !== (a.status === 200)) return `ok=${ok} with status ${a.status}`;
  return null;
}

beforeAll(async () => {
  box = makeSandbox('resight-fuzz-http-');
  const rendererDir = path.join(box.root, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Resight</title>');
  backend = await createBackend({
    dataDir: box.dataDir,
    modelsDir: box.modelsDir,
    samplesDir: box.samplesDir,
    frontDoor: 'browser',
    hostSpawner: forkSpawner(hostEntry),
    log: () => {},
    inference: { provider: 'cpu', threads: 1 },
  });
  server = await startServer({ handlers: backend.handlers, events: backend.events, token, rendererDir, port: 0, reader: 'fuzzer', log: () => {} });
  served = methodNames.filter((m) => typeof backend.handlers[m] === 'function');
  const ctx = { frontDoor: 'browser' as const, reader: 'fuzzer' };
  const samples = (await dispatch(backend.handlers, 'studies.listSamples', {}, ctx)) as { ok: true; value: Array<{ name: string }> };
  const opened = await dispatch(backend.handlers, 'studies.openSample', { name: samples.value[0]!.name }, ctx);
  good = {
    imageIds: opened.ok ? [(opened.value as { imageId: string }).imageId] : [],
    sampleNames: samples.value.map((s) => s.name),
    resultIds: [],
    labelIds: [],
    filePaths: samples.value.map((s) => path.join(box.samplesDir, s.name)),
    cardPaths: [],
  };
  before = snapshot(box.root, box.dataDir);
});

afterAll(async () => {
  await server?.close();
  await backend?.close();
  box?.remove();
});

describe(`HTTP fuzzing of browser mode (seed ${SEED}; rerun with RESIGHT_FUZZ_SEED=${SEED})`, () => {
  it('answers hostile JSON for every call with a typed envelope and a matching status', async () => {
    const rng = new Rng(SEED);
    const hostile = jsonHostileValues(box);
    const paths = hostilePaths(box);
    const problems: string[] = [];
    const jobs: Array<() => Promise<void>> = [];
    for (let i = 0; i < CALLS_PER_METHOD; i++) {
      for (const method of served) {
        const body = JSON.stringify(fuzzInput(rng, method, hostile, paths, good)) ?? 'null';
        jobs.push(async () => {
          const a = await raw('POST', `/api/${method}`, authed, body);
          const problem = answerProblem(a, api[method].binary);
          if (problem) problems.push(`${method} ${body.slice(0, 120)}: ${problem}`);
        });
      }
    }
    for (let i = 0; i < jobs.length; i += 6) await Promise.all(jobs.slice(i, i + 6).map((job) => job()));
    expect(problems, `seed ${SEED}`).toEqual([]);
  });

  it('refuses malformed requests with a code and a 4xx status', async () => {
    const cases: Array<[string, string, string | Buffer | undefined, number]> = [
      ['POST', '/api/app.info', '{nope', 400],
      ['POST', '/api/app.info', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), 400],
      ['POST', '/api/app.info', '[]', 400],
      ['POST', '/api/app.info', '"text"', 400],
      ['POST', '/api/studies.openFile', '{"path": "/x", "path": {"__proto__": 1}}', 400],
      ['GET', '/api/app.info', undefined, 405],
      ['PUT', '/api/app.info', '{}', 405],
      ['DELETE', '/api/feedback.save', '{}', 405],
      ['POST', '/api/', '{}', 404],
      ['POST', '/api/__proto__', '{}', 404],
      ['POST', '/api/constructor', '{}', 404],
      ['POST', '/api/..%2f..%2fapp.info', '{}', 404],
      ['POST', '/api/app.info%00', '{}', 404],
      ['POST', '/api/app.info/extra', '{}', 404],
    ];
    for (const [method, url, body, status] of cases) {
      const a = await raw(method, url, authed, body).catch((err: Error) => {
        throw new Error(`${method} ${url}: ${err.message}`);
      });
      expect(a.status, `${method} ${url.slice(0, 60)}`).toBe(status);
      expect(answerProblem(a, false), `${method} ${url.slice(0, 60)}`).toBeNull();
    }
  });

  it('refuses a body over 1 MB without reading it all, and keeps serving', async () => {
    const started = Date.now();
    const huge = `{"path": "${'a'.repeat(8 * 1024 * 1024)}"}`;
    // The server answers 413 as soon as the limit is passed; the client may see that or a reset
    // connection, as it is still sending. Either way nothing is handled.
    const status = await raw('POST', '/api/studies.openFile', authed, huge).then(
      (a) => a.status,
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(status);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await raw('POST', '/api/app.info', authed, '{}')).status).toBe(200);
  });

  it('never serves a file from outside the renderer folder', async () => {
    const urls = [
      '/../outside/canary.txt',
      '/..%2foutside%2fcanary.txt',
      '/%2e%2e/outside/canary.txt',
      '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/..%5coutside%5ccanary.txt',
      '/index.html%00.png',
      '/%c0%ae%c0%ae/outside/canary.txt',
      '/%E0%A4%A',
      `/${'..%2f'.repeat(30)}etc/passwd`,
    ];
    for (const url of urls) {
      const a = await raw('GET', `${url}${url.includes('?') ? '&' : '?'}token=${token}`, {});
      expect(a.body.toString('utf8'), url).not.toMatch(/must stay as it is|root:/);
      expect([400, 404], url).toContain(a.status);
    }
    expect((await raw('GET', `/?token=${token}`, {})).status).toBe(200);
  });

  it('refuses forged Host headers and near-miss tokens on every route', async () => {
    const port = server.port;
    const hosts = ['evil.example', `127.0.0.1.evil.example:${port}`, `localhost:${port}.evil.example`, `127.0.0.1:${port + 1}`, `[::1]:${port}`, `LOCALHOST:${port}`, `127.0.0.1:${port}@evil.example`];
    for (const host of hosts) {
      const a = await raw('POST', '/api/app.info', { ...authed, host }, '{}');
      expect(a.status, `host ${JSON.stringify(host)}`).toBe(403);
    }
    const tokens = [token.toUpperCase(), `${token}0`, token.slice(0, -1), '', 'null', token.replace(/./, 'ä')];
    for (const t of tokens) {
      for (const url of ['/api/app.info', '/api/events', '/']) {
        const a = await raw(url.startsWith('/api/app') ? 'POST' : 'GET', url, { [TOKEN_HEADER]: t }, url.startsWith('/api/app') ? '{}' : undefined);
        expect(a.status, `token ${JSON.stringify(t)} on ${url}`).toBe(403);
      }
    }
    // HTTP/1.0 without any Host header.
    const noHost = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end(`POST /api/app.info HTTP/1.0\r\n${TOKEN_HEADER}: ${token}\r\ncontent-length: 2\r\n\r\n{}`));
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(noHost).toMatch(/^HTTP\/1\.[01] 403/);
    // The token in the query string of an API call is accepted only as the exact value.
    expect((await raw('POST', `/api/app.info?token=${token}x`, {}, '{}')).status).toBe(403);
  });

  it('keeps answering under a burst of concurrent calls, and leaves everything outside the data folder as it was', async () => {
    const burst = await Promise.all(Array.from({ length: 60 }, () => raw('POST', '/api/app.info', authed, '{}')));
    expect(burst.every((a) => a.status === 200)).toBe(true);
    expect(snapshotDiff(before, snapshot(box.root, box.dataDir))).toEqual([]);
    expect(readFileSync(path.join(box.outsideDir, 'canary.txt'), 'utf8')).toBe('must stay as it is');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(backend.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const saved = await raw('POST', '/api/feedback.save', authed, JSON.stringify({ imageId: good.imageIds[0], verdict: 'uncertain', note: 'after fuzzing' }));
    expect(saved.status).toBe(200);
  });
});
