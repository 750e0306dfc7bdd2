// Runs in Vitest (Node), 'electron' replaced by fake-electron.ts. The resight://app protocol against a
// real temporary renderer folder: CSP on every response, MIME types, no way out of the folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron'));

import { protocol, resetElectronFakes } from './fake-electron';
import { CONTENT_SECURITY_POLICY } from './origin';
import { createProtocolHandler, registerAppScheme, resolveAppFile, serveRenderer } from './protocol';

let root: string;
let rendererDir: string;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'resight-protocol-'));
  rendererDir = path.join(root, 'renderer');
  mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Resight</title>');
  writeFileSync(path.join(rendererDir, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(path.join(rendererDir, 'assets', 'index-abc.css'), 'body{}');
  writeFileSync(path.join(rendererDir, 'assets', 'codec.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(path.join(root, 'secret.txt'), 'outside the renderer folder');
  // A sibling whose name starts with the renderer folder's: a naive prefix check would let it through.
  mkdirSync(path.join(root, 'renderer-private'));
  writeFileSync(path.join(root, 'renderer-private', 'secret.txt'), 'sibling folder');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => resetElectronFakes());

const get = (url: string, method = 'GET') => createProtocolHandler(rendererDir, vi.fn())(new Request(url, { method }));

describe('registerAppScheme', () => {
  it('registers resight: as a standard, secure scheme that supports fetch', () => {
    registerAppScheme();
    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      { scheme: 'resight', privileges: expect.objectContaining({ standard: true, secure: true, supportFetchAPI: true }) },
    ]);
    const privileges = protocol.registerSchemesAsPrivileged.mock.calls[0]?.[0]?.[0]?.privileges as Record<string, boolean>;
    expect(privileges.bypassCSP).toBeUndefined();
  });

  it('serves the handler under the resight scheme', () => {
    serveRenderer(rendererDir, vi.fn());
    expect(protocol.handle).toHaveBeenCalledWith('resight', expect.any(Function));
  });
});

describe('protocol handler', () => {
  it("serves index.html with the app's CSP (script-src 'self') and an HTML type", async () => {
    const response = await get('resight://app/index.html');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toContain('<title>Resight</title>');
  });

  it('serves index.html for the bare origin', async () => {
    const response = await get('resight://app/');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>Resight</title>');
  });

  it('gives scripts, styles and wasm their MIME types', async () => {
    expect((await get('resight://app/assets/index-abc.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get('resight://app/assets/index-abc.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await get('resight://app/assets/codec.wasm')).headers.get('content-type')).toBe('application/wasm');
  });

  it.each([
    'resight://app/..%2fsecret.txt',
    'resight://app/assets/..%2f..%2fsecret.txt',
    'resight://app/%2e%2e%2fsecret.txt',
    'resight://app/..%2frenderer-private%2fsecret.txt',
    'resight://app/..%5csecret.txt',
    `resight://app/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd`,
  ])('refuses to leave the renderer folder: %s', async (url) => {
    const read = vi.fn(async () => new TextEncoder().encode('should not be read'));
    const response = await createProtocolHandler(rendererDir, vi.fn(), read)(new Request(url));
    expect([403, 404]).toContain(response.status);
    for (const [file] of read.mock.calls as unknown as [string][]) {
      expect(file.startsWith(rendererDir + path.sep)).toBe(true);
    }
    expect(await response.text()).not.toMatch(/outside the renderer folder|sibling folder|root:/);
  });

  it('answers an encoded ../ with 403 and reads nothing', async () => {
    const read = vi.fn(async () => new Uint8Array());
    const response = await createProtocolHandler(rendererDir, vi.fn(), read)(new Request('resight://app/..%2fsecret.txt'));
    expect(response.status).toBe(403);
    expect(read).not.toHaveBeenCalled();
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('resolves plain ../ segments inside the folder (URL parsing removes them first)', () => {
    expect(resolveAppFile(rendererDir, 'resight://app/../../secret.txt')).toBe(path.join(rendererDir, 'secret.txt'));
  });

  it('refuses NUL bytes, malformed escapes and other hosts', () => {
    expect(resolveAppFile(rendererDir, 'resight://app/index.html%00.png')).toBeNull();
    expect(resolveAppFile(rendererDir, 'resight://app/%E0%A4%A')).toBeNull();
    expect(resolveAppFile(rendererDir, 'resight://other/index.html')).toBeNull();
    expect(resolveAppFile(rendererDir, 'https://app/index.html')).toBeNull();
  });

  it('answers missing files with 404, still carrying the CSP', async () => {
    const response = await get('resight://app/assets/missing.js');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('answers a folder with 404', async () => {
    expect((await get('resight://app/assets')).status).toBe(404);
  });

  it('accepts only GET and HEAD', async () => {
    expect((await get('resight://app/index.html', 'POST')).status).toBe(405);
    const head = await get('resight://app/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});
