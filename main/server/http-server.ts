// Runs in the browser-mode server process (plain Node). The loopback HTTP transport: binds
// 127.0.0.1 only, requires the per-run token on every request, serves the built renderer, the API
// (JSON, binary for pixel data) and a server-sent-events channel for progress.
import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { api, BINARY_META_HEADER, isMethodName, TOKEN_HEADER, type Envelope, type ErrorCode } from '../../preload/api';
import { dispatch, type CallContext, type Handlers } from '../api/dispatch';
import type { EventHub } from '../api/events';

export interface ServerOptions {
  handlers: Handlers;
  events: EventHub;
  token: string;
  rendererDir: string;
  port: number;
  reader: string;
  log: (line: string) => void;
}

export interface RunningServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const COOKIE = 'resight_token';
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNKNOWN_METHOD: 404,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  IMAGE_NOT_OPEN: 409,
  DATABASE_BUSY: 409,
  MODEL_NOT_FOUND: 404,
  UNSUPPORTED_FORMAT: 415,
  UNSUPPORTED_TRANSFER_SYNTAX: 415,
  INTERNAL: 500,
  STORE_FAILED: 500,
  INFERENCE_HOST_CRASHED: 503,
};

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE) return v;
  }
  return undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function refuse(res: http.ServerResponse, status: number, code: ErrorCode, message: string): void {
  // Drain an unread body, or the next request on this keep-alive connection would hang.
  res.req.resume();
  sendJson(res, status, { ok: false, error: { code, message } } satisfies Envelope<never>);
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function startServer(opts: ServerOptions): Promise<RunningServer> {
  const ctx: CallContext = { frontDoor: 'browser', reader: opts.reader };
  const rendererRoot = path.resolve(opts.rendererDir);
  let port = 0;

  const serveStatic = async (res: http.ServerResponse, urlPath: string): Promise<void> => {
    let rel: string;
    try {
      rel = decodeURIComponent(urlPath);
    } catch {
      return refuse(res, 400, 'INVALID_ARGUMENT', 'The address is not valid.');
    }
    const file = path.resolve(rendererRoot, '.' + (rel === '/' ? '/index.html' : rel));
    if (file !== rendererRoot && !file.startsWith(rendererRoot + path.sep)) return refuse(res, 404, 'NOT_FOUND', 'Not found.');
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new Error('not a file');
      res.writeHead(200, {
        'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'content-length': s.size,
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-cache',
      });
      createReadStream(file).pipe(res);
    } catch {
      refuse(res, 404, 'NOT_FOUND', rel === '/' ? 'The Resight interface has not been built yet: run `npm run build`.' : 'Not found.');
    }
  };

  const serveEvents = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': connected\n\n');
    const unsubscribe = opts.events.subscribe((name, payload) => res.write(`data: ${JSON.stringify({ name, payload })}\n\n`));
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  };

  const serveApi = async (req: http.IncomingMessage, res: http.ServerResponse, method: string): Promise<void> => {
    if (req.method !== 'POST') return refuse(res, 405, 'INVALID_ARGUMENT', 'Use POST for API calls.');
    const body = await readBody(req);
    if (!body) return refuse(res, 413, 'INVALID_ARGUMENT', 'The request is too large.');
    let input: unknown = {};
    if (body.length) {
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch {
        return refuse(res, 400, 'INVALID_ARGUMENT', 'The request body is not valid JSON.');
      }
    }
    const envelope = await dispatch(opts.handlers, method, input, ctx, opts.log);
    if (!envelope.ok) return sendJson(res, STATUS[envelope.error.code] ?? 422, envelope);
    if (isMethodName(method) && api[method].binary) {
      const { meta, data } = envelope.value as { meta: unknown; data: Uint8Array };
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': data.byteLength,
        [BINARY_META_HEADER]: JSON.stringify(meta),
        'cache-control': 'no-store',
      });
      res.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return;
    }
    sendJson(res, 200, envelope);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // A page on another site that resolves its name to 127.0.0.1 still sends its own Host.
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return refuse(res, 403, 'FORBIDDEN', 'Forbidden.');
    const isApi = url.pathname.startsWith('/api/');
    const headerToken = req.headers[TOKEN_HEADER];
    const given = (typeof headerToken === 'string' ? headerToken : undefined) ?? url.searchParams.get('token') ?? (isApi ? undefined : cookieToken(req));
    if (!sameToken(given, opts.token)) return refuse(res, 403, 'FORBIDDEN', 'This address needs the token printed when Resight started.');
    if (url.pathname === '/api/events') return serveEvents(req, res);
    if (isApi) {
      serveApi(req, res, url.pathname.slice('/api/'.length)).catch(() => refuse(res, 500, 'INTERNAL', 'The request failed.'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'INVALID_ARGUMENT', 'Method not allowed.');
    if (url.searchParams.get('token')) res.setHeader('set-cookie', `${COOKIE}=${opts.token}; HttpOnly; SameSite=Strict; Path=/`);
    serveStatic(res, url.pathname).catch(() => refuse(res, 500, 'INTERNAL', 'The request failed.'));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      port = (server.address() as AddressInfo).port;
      resolve({
        port,
        url: `http://127.0.0.1:${port}/?token=${opts.token}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
