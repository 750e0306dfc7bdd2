// Runs in the renderer in browser mode: the same ResightBridge as Electron's preload, over the
// loopback server (POST /api/<method>, a per-run token header, server-sent events).
import {
  api,
  BINARY_META_HEADER,
  EventMessage,
  events,
  TOKEN_HEADER,
  type Envelope,
  type EventName,
  type EventPayload,
  type MethodName,
  type MethodOutput,
  type ResightBridge,
} from '../../preload/api';
import { UNEXPECTED_REPLY, UNREACHABLE } from './errors';

const TOKEN_KEY = 'resight.token';

/**
 * The token arrives once as ?token= in the page URL. Keep it for this tab (reloads keep working)
 * and take it out of the address bar so it is not bookmarked, shared or left in history.
 */
export function takeToken(
  loc: Pick<Location, 'href'> = window.location,
  storage: Pick<Storage, 'getItem' | 'setItem'> = window.sessionStorage,
  history: Pick<History, 'state' | 'replaceState'> = window.history,
): string | null {
  const url = new URL(loc.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY);
}

type Listener = (payload: unknown) => void;

export class HttpBridge implements ResightBridge {
  private source: EventSource | null = null;
  private readonly listeners = new Map<EventName, Set<Listener>>();

  constructor(
    private readonly token: string,
    private readonly base = '/api/',
    private readonly fetchFn: typeof fetch = (...args) => fetch(...args),
  ) {}

  async invoke<M extends MethodName>(method: M, input: unknown): Promise<Envelope<MethodOutput<M>>> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${method}`, {
        method: 'POST',
        headers: { [TOKEN_HEADER]: this.token, 'content-type': 'application/json' },
        body: JSON.stringify(input ?? {}),
      });
    } catch {
      return { ok: false, error: UNREACHABLE };
    }
    const type = res.headers.get('content-type') ?? '';
    if (api[method].binary && res.ok && type.startsWith('application/octet-stream')) {
      const metaHeader = res.headers.get(BINARY_META_HEADER);
      if (!metaHeader) return { ok: false, error: UNEXPECTED_REPLY };
      try {
        const meta: unknown = JSON.parse(metaHeader);
        const data = new Uint8Array(await res.arrayBuffer());
        return { ok: true, value: { meta, data } as MethodOutput<M> };
      } catch {
        return { ok: false, error: UNEXPECTED_REPLY };
      }
    }
    if (type.startsWith('application/json')) {
      try {
        return (await res.json()) as Envelope<MethodOutput<M>>;
      } catch {
        return { ok: false, error: UNEXPECTED_REPLY };
      }
    }
    if (res.status === 403) {
      return {
        ok: false,
        error: { code: 'FORBIDDEN', message: 'This page is not authorised. Open the address Resight printed when it started.' },
      };
    }
    return { ok: false, error: UNEXPECTED_REPLY };
  }

  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    const wrapped = listener as Listener;
    set.add(wrapped);
    this.connect();
    return () => {
      set.delete(wrapped);
    };
  }

  /** One EventSource for all listeners, opened on first use; EventSource reconnects by itself. */
  private connect(): void {
    if (this.source || typeof EventSource === 'undefined') return;
    this.source = new EventSource(`${this.base}events?${new URLSearchParams({ token: this.token })}`);
    this.source.onmessage = (ev: MessageEvent<string>) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(ev.data);
      } catch {
        return;
      }
      const msg = EventMessage.safeParse(parsed);
      if (!msg.success) return;
      const payload = events[msg.data.name].safeParse(msg.data.payload);
      if (!payload.success) return;
      for (const l of this.listeners.get(msg.data.name) ?? []) l(payload.data);
    };
  }
}
