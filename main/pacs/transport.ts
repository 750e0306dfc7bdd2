// Runs in main, the CLI and tests. One HTTP exchange with a DICOMweb server through Node's fetch:
// an inactivity timeout per attempt, retries with exponential backoff for what may pass (refused
// or cut connections, timeouts, 408/429/5xx), cancellation by the caller's AbortSignal, and every
// failure as a ResightError whose sentence names neither patient data nor credentials.
import { ResightError } from '../../preload/api';
import { authorization, type AuthSource } from './credentials';

/** No DICOMweb answer Resight asks for comes near this; beyond it the server is misbehaving. */
const MAX_RESPONSE_BYTES = 2 * 1024 ** 3;

export interface TransportOptions {
  /** Longest wait for the next bytes of an answer before the attempt counts as timed out. */
  timeoutMs: number;
  /** Further attempts after the first for failures that may pass. */
  retries: number;
  /** First backoff delay; it doubles per retry (with jitter). */
  retryDelayMs: number;
  auth?: AuthSource;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
  /** Statuses besides 2xx the caller reads itself (STOW-RS reports per-instance failures in a 4xx body). */
  readStatus?: (status: number) => boolean;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** A failure another attempt may cure; `error` is what the caller sees if none does. */
class Transient extends Error {
  constructor(readonly error: ResightError) {
    super(error.message);
  }
}

const where = (url: URL): string => url.host;

const cancelled = (): ResightError => new ResightError('PACS_CANCELLED', 'The PACS request was cancelled.');

function networkError(err: unknown, url: URL): Transient {
  const cause = (err as { cause?: { code?: string } }).cause;
  const code = cause?.code ?? '';
  const reason =
    code === 'ECONNREFUSED'
      ? 'nothing is listening at that address'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'the host name could not be resolved'
        : 'the connection failed';
  return new Transient(
    new ResightError('PACS_UNREACHABLE', `The PACS at ${where(url)} could not be reached (${reason}). Check the server address, that the server is running, and the network connection.`),
  );
}

function statusError(status: number, url: URL): ResightError | Transient {
  if (status === 401 || status === 403)
    return new ResightError('PACS_AUTH_FAILED', `The PACS at ${where(url)} refused the credentials (HTTP ${status}). Check the user name and password or token for this server.`);
  if (status === 404) return new ResightError('NOT_FOUND', `The PACS at ${where(url)} does not have what was asked for (HTTP 404). Check the study, series or instance and the server's DICOMweb address.`);
  const error = new ResightError(
    'PACS_HTTP_ERROR',
    `The PACS at ${where(url)} answered with an error (HTTP ${status}). Try again later; if it keeps happening, ask your PACS administrator to check the server's log.`,
  );
  return status === 408 || status === 429 || status >= 500 ? new Transient(error) : error;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function attempt(req: HttpRequest, options: TransportOptions): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...req.headers };
  const auth = await authorization(options.auth);
  if (auth) headers.authorization = auth;

  // Restarted on every chunk, so a large retrieve that keeps moving never times out.
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), options.timeoutMs);
  };
  const signal = req.signal ? AbortSignal.any([req.signal, idle.signal]) : idle.signal;
  const timedOut = (): Transient =>
    new Transient(
      new ResightError('PACS_TIMEOUT', `The PACS at ${where(req.url)} did not answer within ${Math.round(options.timeoutMs / 1000)} s. The server may be busy; try again later or raise the timeout.`),
    );
  const aborted = (): ResightError | Transient => (req.signal?.aborted ? cancelled() : timedOut());

  arm();
  try {
    let res: Response;
    try {
      res = await fetchFollowingSameOrigin(req.url, { method: req.method, headers, body: req.body, signal });
    } catch (err) {
      if (err instanceof ResightError) throw err;
      if (signal.aborted) throw aborted();
      throw networkError(err, req.url);
    }
    if (!(res.ok || req.readStatus?.(res.status))) {
      await res.body?.cancel().catch(() => undefined);
      throw statusError(res.status, req.url);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      if (res.body)
        for await (const chunk of res.body) {
          arm();
          total += chunk.byteLength;
          if (total > MAX_RESPONSE_BYTES)
            throw new ResightError('PACS_BAD_RESPONSE', `The PACS at ${where(req.url)} sent more than ${MAX_RESPONSE_BYTES / 1024 ** 3} GiB for one request; Resight stopped reading it.`);
          chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        }
    } catch (err) {
      if (err instanceof ResightError) throw err;
      if (signal.aborted) throw aborted();
      throw new Transient(
        new ResightError('PACS_BAD_RESPONSE', `The connection to the PACS at ${where(req.url)} closed before the whole answer arrived. Check the network; the request can be tried again.`),
      );
    }
    return { status: res.status, headers: res.headers, body: Buffer.concat(chunks, total) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Follows redirects only within the server's own origin: a redirect elsewhere would carry the
 * request (and, for a basic or bearer PACS, its credentials) to a server nobody configured.
 */
async function fetchFollowingSameOrigin(url: URL, init: RequestInit): Promise<Response> {
  let target = url;
  for (let hop = 0; hop < 5; hop++) {
    const res = await fetch(target, { ...init, redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || !location) return res;
    await res.body?.cancel().catch(() => undefined);
    const next = new URL(location, target);
    if (next.origin !== target.origin) {
      throw new ResightError(
        'PACS_HTTP_ERROR',
        `The PACS at ${where(url)} redirected to another server (${next.host}); Resight does not follow it. If that is the right server, configure its address instead.`,
      );
    }
    target = next;
  }
  throw new ResightError('PACS_HTTP_ERROR', `The PACS at ${where(url)} redirected too many times. Check the address.`);
}

/** Sends one request, retrying what may pass; throws a ResightError when it does not succeed. */
export async function send(req: HttpRequest, options: TransportOptions): Promise<HttpResponse> {
  for (let n = 0; ; n++) {
    if (req.signal?.aborted) throw cancelled();
    try {
      return await attempt(req, options);
    } catch (err) {
      if (!(err instanceof Transient)) throw err;
      if (req.signal?.aborted) throw cancelled();
      if (n >= options.retries) {
        if (n === 0) throw err.error;
        throw new ResightError(err.error.code, `${err.error.message} (${n + 1} attempts made.)`, { cause: err.error });
      }
      await sleep(options.retryDelayMs * 2 ** n * (0.75 + Math.random() * 0.5), req.signal);
    }
  }
}
