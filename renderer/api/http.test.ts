import { describe, expect, it } from 'vitest';
import { BINARY_META_HEADER, TOKEN_HEADER } from '../../preload/api';
import { HttpBridge, takeToken } from './http';

type Seen = { url: string; init: RequestInit };

function fakeFetch(reply: () => Response, seen: Seen[] = []): typeof fetch {
  return (async (url: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(url), init: init ?? {} });
    return reply();
  }) as typeof fetch;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

describe('HttpBridge', () => {
  it('posts the input as JSON with the token header and returns the envelope', async () => {
    const seen: Seen[] = [];
    const bridge = new HttpBridge('t0k', '/api/', fakeFetch(() => json({ ok: true, value: [] }), seen));
    expect(await bridge.invoke('studies.listSamples', {})).toEqual({ ok: true, value: [] });
    expect(seen[0]?.url).toBe('/api/studies.listSamples');
    expect(seen[0]?.init.method).toBe('POST');
    expect(new Headers(seen[0]?.init.headers).get(TOKEN_HEADER)).toBe('t0k');
    expect(seen[0]?.init.body).toBe('{}');
  });

  it('assembles a binary frame from the body and the meta header', async () => {
    const meta = { imageId: 'b'.repeat(64), frame: 0, width: 2, height: 1, samplesPerPixel: 1, pixelDataType: 'uint16' };
    const bridge = new HttpBridge(
      't',
      '/api/',
      fakeFetch(
        () =>
          new Response(new Uint8Array([1, 0, 2, 0]), {
            headers: { 'content-type': 'application/octet-stream', [BINARY_META_HEADER]: JSON.stringify(meta) },
          }),
      ),
    );
    const res = await bridge.invoke('studies.getFrame', { imageId: meta.imageId, frame: 0 });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.value.meta).toEqual(meta);
    expect(res.value.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(res.value.data)).toEqual([1, 0, 2, 0]);
  });

  it('passes a binary method’s JSON error envelope through', async () => {
    const error = { code: 'IMAGE_NOT_OPEN', message: 'Open the image again.' };
    const bridge = new HttpBridge('t', '/api/', fakeFetch(() => json({ ok: false, error }, 404)));
    expect(await bridge.invoke('studies.getFrame', { imageId: 'c'.repeat(64) })).toEqual({ ok: false, error });
  });

  it('turns a refused request without a JSON body into FORBIDDEN with a sentence', async () => {
    const bridge = new HttpBridge('bad', '/api/', fakeFetch(() => new Response('forbidden', { status: 403 })));
    const res = await bridge.invoke('app.info', {});
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.code).toBe('FORBIDDEN');
  });

  it('turns a network failure into an error envelope rather than a rejection', async () => {
    const bridge = new HttpBridge('t', '/api/', (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch);
    const res = await bridge.invoke('app.info', {});
    expect(res.ok).toBe(false);
  });
});

describe('takeToken', () => {
  const memory = () => {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
  };

  it('keeps the token from the URL and removes it from the address bar', () => {
    const storage = memory();
    const replaced: string[] = [];
    const history = { state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) };
    expect(takeToken({ href: 'http://127.0.0.1:5/?token=abc&renderer=canvas2d#x' }, storage, history)).toBe('abc');
    expect(replaced).toEqual(['/?renderer=canvas2d#x']);
    // A reload has no token in the URL; the tab's copy is used.
    expect(takeToken({ href: 'http://127.0.0.1:5/' }, storage, history)).toBe('abc');
    expect(replaced).toHaveLength(1);
  });
});
