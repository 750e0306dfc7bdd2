// Runs in the Electron main process. Serves the built renderer at resight://app/ instead of file://,
// so the page has a real origin, a CSP header and no way to read files outside its own folder.
import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../api/dispatch';
import { APP_HOST, APP_SCHEME, CONTENT_SECURITY_POLICY } from './origin';

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeTypeFor(filePath: string): string {
  return MIME_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers every response from the app scheme carries, errors included. */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

/**
 * Must run before app 'ready'. standard: real origin and relative URLs; secure: counts as a
 * secure context; supportFetchAPI: fetch() of app assets; corsEnabled: Vite emits
 * `<script type="module" crossorigin>`, a CORS-mode request Chromium refuses for schemes not so marked.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } },
  ]);
}

function textResponse(status: number, text: string): Response {
  return new Response(text, {
    status,
    headers: { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8' },
  });
}

/**
 * Maps a resight://app URL to a file inside rendererDir, or null when the path would leave it
 * (dot segments, encoded separators, backslashes, NUL) or the URL is not the app's.
 */
export function resolveAppFile(rendererDir: string, requestUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  let relative: string;
  try {
    relative = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  // Backslashes are separators on Windows; no built asset has one in its name.
  if (relative.includes('\0') || relative.includes('\\')) return null;
  if (relative === '/' || relative === '') relative = '/index.html';
  const root = path.resolve(rendererDir);
  const resolved = path.resolve(root, `.${relative}`);
  return resolved.startsWith(root + path.sep) ? resolved : null;
}

export type ReadFile = (filePath: string) => Promise<Uint8Array>;

export function createProtocolHandler(
  rendererDir: string,
  log: Logger,
  read: ReadFile = readFile,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'Method not allowed');
    const filePath = resolveAppFile(rendererDir, request.url);
    if (filePath === null) {
      log('refused an app-scheme request outside the renderer folder');
      return textResponse(403, 'Forbidden');
    }
    let body: Uint8Array;
    try {
      body = await read(filePath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return textResponse(404, 'Not found');
      log(`could not read an app file: ${code ?? 'unknown error'}`);
      return textResponse(500, 'Could not read the file');
    }
    return new Response(request.method === 'HEAD' ? null : body, {
      status: 200,
      headers: { ...securityHeaders(), 'Content-Type': mimeTypeFor(filePath) },
    });
  };
}

/** Must run after app 'ready'. */
export function serveRenderer(rendererDir: string, log: Logger): void {
  protocol.handle(APP_SCHEME, createProtocolHandler(rendererDir, log));
}
