// Runs in tests. Browser mode end to end below the UI: the real backend (SQLite file, ONNX in the
// host process, sharp) behind the loopback server, reached over HTTP.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY_META_HEADER, FrameMeta, TOKEN_HEADER } from '../../preload/api';
import { createBackend, type Backend } from '../api/backend';
import { forkSpawner } from '../inference/host/fork';
import { hostEntry, modelsDir, repoRoot, samplesDir } from '../testing/fixtures';
import { startServer, type RunningServer } from './http-server';

const token = 'f'.repeat(48);
let backend: Backend;
let server: RunningServer;
let base: string;
let pngPath: string;

async function call(method: string, body: unknown, headers: Record<string, string> = { [TOKEN_HEADER]: token }): Promise<Response> {
  return fetch(`${base}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function value<T>(method: string, body: unknown): Promise<T> {
  const res = await call(method, body);
  const json = (await res.json()) as { ok: boolean; value: T; error?: unknown };
  expect(json, JSON.stringify(json.error)).toMatchObject({ ok: true });
  return json.value;
}

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-server-'));
  pngPath = path.join(dir, 'chest.png');
  // A 16-bit grey gradient with a bright disc: real PNG bytes through a real codec.
  const w = 300;
  const h = 240;
  const px = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = (x * 200 + (Math.hypot(x - 150, y - 120) < 40 ? 20000 : 0)) & 0xffff;
  // sharp takes the raw depth from the typed array's type.
  await sharp(px, { raw: { width: w, height: h, channels: 1 } }).toColourspace('grey16').png().toFile(pngPath);
  backend = await createBackend({
    dataDir: path.join(dir, 'data'),
    modelsDir,
    samplesDir,
    frontDoor: 'browser',
    hostSpawner: forkSpawner(hostEntry),
    log: () => {},
    inference: { provider: 'cpu', threads: 1 },
  });
  server = await startServer({
    handlers: backend.handlers,
    events: backend.events,
    token,
    rendererDir: path.join(repoRoot, 'dist', 'renderer'),
    port: 0,
    reader: 'tester',
    log: () => {},
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await backend?.close();
});

describe('browser-mode server', () => {
  it('refuses requests without the token with 403 and changes nothing', async () => {
    const info = await value<{ imageId: string }>('studies.openFile', { path: pngPath });
    const before = backend.store.db.prepare('SELECT COUNT(*) AS n FROM feedback').get() as { n: number };
    const wrong: Array<Record<string, string>> = [{}, { [TOKEN_HEADER]: 'nope' }, { [TOKEN_HEADER]: token.slice(1) + '0' }];
    for (const headers of wrong) {
      const res = await call('feedback.save', { imageId: info.imageId, verdict: 'agree', note: 'x' }, headers);
      expect(res.status).toBe(403);
    }
    expect((await fetch(`${base}/`)).status).toBe(403);
    expect((await fetch(`${base}/api/events`)).status).toBe(403);
    const after = backend.store.db.prepare('SELECT COUNT(*) AS n FROM feedback').get() as { n: number };
    expect(after.n).toBe(before.n);
  });

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(
          { host: '127.0.0.1', port: server.port, path: '/api/app.info', method: 'POST', headers: { host: 'evil.example', [TOKEN_HEADER]: token } },
          (r) => resolve(r.statusCode ?? 0),
        );
        req.on('error', reject);
        req.end('{}');
      }, reject);
    });
    expect(res).toBe(403);
  });

  it('answers with typed errors for bad input', async () => {
    const bad = await call('studies.getFrame', { imageId: '../../etc/passwd' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const unknown = await call('studies.deleteEverything', {});
    expect(await unknown.json()).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    const missing = await call('studies.openFile', { path: '/definitely/not/here.dcm' });
    expect(await missing.json()).toMatchObject({ ok: false, error: { code: 'FILE_NOT_FOUND' } });
    const notJson = await fetch(`${base}/api/app.info`, { method: 'POST', headers: { [TOKEN_HEADER]: token }, body: '{nope' });
    expect(notJson.status).toBe(400);
    const sample = await call('studies.openSample', { name: '../../package.json' });
    expect(await sample.json()).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const traversal = await fetch(`${base}/..%2f..%2fpackage.json?token=${token}`);
    expect(traversal.status).toBe(404);
  });

  it('opens an image, streams its pixels as binary, runs the model and keeps the feedback', async () => {
    const info = await value<{ imageId: string; width: number; height: number; pixelDataType: string }>('studies.openFile', { path: pngPath });
    expect(info).toMatchObject({ width: 300, height: 240, pixelDataType: 'uint16' });

    const frame = await call('studies.getFrame', { imageId: info.imageId, frame: 0 });
    expect(frame.headers.get('content-type')).toBe('application/octet-stream');
    const meta = FrameMeta.parse(JSON.parse(frame.headers.get(BINARY_META_HEADER)!));
    const bytes = new Uint8Array(await frame.arrayBuffer());
    expect(bytes.byteLength).toBe(meta.width * meta.height * 2);
    const px = new Uint16Array(bytes.buffer);
    expect(px[0]).toBe(0);
    expect(px[150 + 120 * 300]).toBe((150 * 200 + 20000) & 0xffff);

    const result = await value<{ resultId: number; findings: Array<{ labelId: string; probability: number }>; cam: { values: number[]; width: number; height: number } }>(
      'inference.run',
      { imageId: info.imageId },
    );
    expect(result.findings.length).toBeGreaterThan(0);
    expect(result.cam.values).toHaveLength(result.cam.width * result.cam.height);
    const other = result.findings.at(-1)!.labelId;
    const cam = await value<{ labelId: string }>('inference.cam', { resultId: result.resultId, labelId: other });
    expect(cam.labelId).toBe(other);

    const saved = await value<{ version: number; savedAt: string }>('feedback.save', {
      imageId: info.imageId,
      resultId: result.resultId,
      labelId: result.findings[0]!.labelId,
      verdict: 'disagree',
      note: 'Heat sits outside the lungs.',
    });
    expect(saved.version).toBeGreaterThanOrEqual(1);
    const latest = await value<{ verdict: string; note: string }>('feedback.latest', { imageId: info.imageId });
    expect(latest).toMatchObject({ verdict: 'disagree', note: 'Heat sits outside the lungs.' });
    const row = backend.store.db.prepare('SELECT model_id, model_sha256, provider_used FROM model_results WHERE result_id = ?').get(result.resultId) as Record<string, string>;
    expect(row.model_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row.provider_used).toBe('cpu');
  });

  it('pushes host status events over server-sent events', async () => {
    const res = await fetch(`${base}/api/events?token=${token}`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('connected');
    backend.events.emit('inference.progress', { requestId: 'r1', done: 1, total: 2 });
    const next = new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(next.replace(/^data: /, '').trim())).toEqual({ name: 'inference.progress', payload: { requestId: 'r1', done: 1, total: 2 } });
    await reader.cancel();
  });
});
