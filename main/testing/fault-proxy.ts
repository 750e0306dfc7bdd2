// Runs in tests only. A TCP proxy on 127.0.0.1 that passes bytes to a real server and misbehaves on
// request: holds the answer back, or cuts the connection after N bytes of it. Real sockets, so the
// client sees what a flaky network or an overloaded server does to it.
import net from 'node:net';

export interface Fault {
  /** Hold the server's answer back this long before passing it on. */
  delayMs?: number;
  /** Pass this many bytes of the answer, then destroy both sockets. */
  dropAfterBytes?: number;
  /** Only the next this many connections misbehave; later ones pass cleanly (default: all). */
  times?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  /** Applies to connections opened from now on. */
  setFault(fault: Fault): void;
  /** Connections accepted so far (each retry after a cut opens a new one). */
  readonly connections: number;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }, initial: Fault = {}): Promise<FaultProxy> {
  let fault = initial;
  let remaining = initial.times ?? Infinity;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections++;
    const f = remaining-- > 0 ? fault : {};
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    let passed = 0;
    const start = Date.now();
    upstream.on('data', (chunk: Buffer) => {
      const forward = (): void => {
        if (client.destroyed) return;
        if (f.dropAfterBytes !== undefined && passed + chunk.length >= f.dropAfterBytes) {
          client.write(chunk.subarray(0, f.dropAfterBytes - passed), () => {
            client.destroy();
            upstream.destroy();
          });
          passed = f.dropAfterBytes;
          return;
        }
        passed += chunk.length;
        client.write(chunk);
      };
      const wait = (f.delayMs ?? 0) - (Date.now() - start);
      if (wait > 0) {
        upstream.pause();
        setTimeout(() => {
          upstream.resume();
          forward();
        }, wait);
      } else forward();
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    setFault: (next) => {
      fault = next;
      remaining = next.times ?? Infinity;
    },
    get connections() {
      return connections;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
