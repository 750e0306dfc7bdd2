// Runs in tests. What the client does when the network or the server misbehaves, over real sockets:
// a closed port, servers answering 5xx, 401 or cut multipart, a TCP proxy in front of a real Orthanc
// that stalls or cuts the answer, and cancellation. Nothing incomplete may come back as complete.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../testing/fault-proxy';
import { samplesDir } from '../testing/fixtures';
import { orthancAvailable, startOrthanc, uploadToOrthanc, type OrthancServer } from '../testing/orthanc';
import { DicomWebClient, sopInstanceUidOf } from './client';
import { parseMultipart } from './multipart';

const NORMAL = path.join(samplesDir, 'cxr-normal-cr.dcm');
const tag = (file: string, t: string): string => /\[([^\]]*)\]/.exec(execFileSync('dcmdump', ['+P', t, '-s', file], { encoding: 'utf8' }))![1]!;

interface Fake {
  url: string;
  requests: number;
  close(): Promise<void>;
}

async function fakeServer(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number, body: Buffer) => void): Promise<Fake> {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    const n = ++state.requests;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, n, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dicom-web/`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const studyJson = JSON.stringify([{ '0020000D': { vr: 'UI', Value: ['1.2.3'] }, '00201208': { vr: 'IS', Value: ['4'] } }]);

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected the call to fail');
}

describe('transport faults against local servers', () => {
  const fakes: Fake[] = [];
  const fake = async (handler: Parameters<typeof fakeServer>[0]): Promise<Fake> => {
    const f = await fakeServer(handler);
    fakes.push(f);
    return f;
  };
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  it('a refused connection is retried, then reported as PACS_UNREACHABLE', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((r) => probe.close(r));
    const started = Date.now();
    const err = await failure(new DicomWebClient({ url: `http://127.0.0.1:${port}/dicom-web/`, retries: 2, retryDelayMs: 40 }).searchStudies());
    expect(err.code).toBe('PACS_UNREACHABLE');
    expect(err.message).toMatch(/could not be reached \(nothing is listening at that address\).*\(3 attempts made\.\)$/);
    // Backoff waited at least 0.75 × (40 + 80) ms between the attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('HTTP 500 is retried with backoff, then reported as PACS_HTTP_ERROR', async () => {
    const server = await fake((_req, res) => res.writeHead(500).end('boom'));
    const err = await failure(new DicomWebClient({ url: server.url, retries: 3, retryDelayMs: 10 }).searchStudies());
    expect(err.code).toBe('PACS_HTTP_ERROR');
    expect(err.message).toContain('HTTP 500');
    expect(server.requests).toBe(4);
  });

  it('a server that recovers within the retries gives its answer', async () => {
    const server = await fake((_req, res, n) => (n < 3 ? res.writeHead(503).end() : res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(studyJson)));
    const studies = await new DicomWebClient({ url: server.url, retries: 2, retryDelayMs: 10 }).searchStudies();
    expect(studies).toEqual([expect.objectContaining({ StudyInstanceUID: '1.2.3', NumberOfStudyRelatedInstances: 4, ModalitiesInStudy: [] })]);
    expect(server.requests).toBe(3);
  });

  it('refused credentials and bad requests are not retried', async () => {
    const denied = await fake((_req, res) => res.writeHead(401).end());
    expect(await failure(new DicomWebClient({ url: denied.url, retryDelayMs: 10 }).searchStudies())).toMatchObject({ code: 'PACS_AUTH_FAILED' });
    expect(denied.requests).toBe(1);
    const bad = await fake((_req, res) => res.writeHead(400).end());
    expect(await failure(new DicomWebClient({ url: bad.url, retryDelayMs: 10 }).searchStudies())).toMatchObject({ code: 'PACS_HTTP_ERROR' });
    expect(bad.requests).toBe(1);
  });

  it('follows a redirect within the server, never one to another server with the credentials', async () => {
    let seenElsewhere = 0;
    const stranger = await fake((_req, res) => {
      seenElsewhere++;
      res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(studyJson);
    });
    const auth = { kind: 'bearer' as const, token: 'tok-456' };
    const moved = await fake((req, res) => {
      if (req.url!.startsWith('/dicom-web/studies')) res.writeHead(302, { location: `/moved${req.url}` }).end();
      else if (req.url!.startsWith('/moved/')) res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(studyJson);
      else res.writeHead(404).end();
    });
    expect(await new DicomWebClient({ url: moved.url, auth }).searchStudies()).toHaveLength(1);
    const away = await fake((_req, res) => res.writeHead(307, { location: `${stranger.url}studies` }).end());
    expect(await failure(new DicomWebClient({ url: away.url, auth, retryDelayMs: 10 }).searchStudies())).toMatchObject({ code: 'PACS_HTTP_ERROR', message: expect.stringContaining('another server') });
    expect(seenElsewhere).toBe(0);
  });

  it('sends the bearer token, and answers that are not DICOM JSON are PACS_BAD_RESPONSE', async () => {
    let seen: string | undefined;
    const server = await fake((req, res) => {
      seen = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[{"0020000D": {"vr": "UI", "Value": [42]}}]');
    });
    const err = await failure(new DicomWebClient({ url: server.url, auth: { kind: 'bearer', token: 'tok-123' } }).searchStudies());
    expect(seen).toBe('Bearer tok-123');
    expect(err.code).toBe('PACS_BAD_RESPONSE');
  });

  it('the timeout is for a stalled answer, not a long one', async () => {
    const body = Buffer.from(studyJson);
    // Trickles the answer a few bytes at a time: 8 × 100 ms, longer than the timeout in total.
    const trickle = await fake((_req, res, n) => {
      res.writeHead(200, { 'content-type': 'application/dicom+json' });
      let sent = 0;
      const step = Math.ceil(body.length / 8);
      const tick = setInterval(() => {
        res.write(body.subarray(sent, (sent += step)));
        // The second request stalls after the first piece.
        if (sent >= body.length || n > 1) {
          clearInterval(tick);
          if (n === 1) res.end();
        }
      }, 100);
    });
    const client = new DicomWebClient({ url: trickle.url, timeoutMs: 400, retries: 0 });
    expect(await client.searchStudies()).toHaveLength(1);
    const err = await failure(client.searchStudies());
    expect(err.code).toBe('PACS_TIMEOUT');
  });

  it('a multipart answer that ends before its closing boundary is PACS_BAD_RESPONSE, not an instance', async () => {
    const file = await readFile(NORMAL);
    const server = await fake((_req, res) => {
      const body = Buffer.concat([Buffer.from('--xyz\r\nContent-Type: application/dicom\r\n\r\n'), file.subarray(0, 4000)]);
      res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary="xyz"', 'content-length': body.length }).end(body);
    });
    const err = await failure(new DicomWebClient({ url: server.url, retryDelayMs: 10 }).retrieveInstance('1.2', '1.3', '1.4'));
    expect(err.code).toBe('PACS_BAD_RESPONSE');
    expect(err.message).toContain('closing boundary');
  });

  it('a part that is not the instance asked for is refused', async () => {
    const file = await readFile(NORMAL);
    const server = await fake((_req, res) => {
      const body = Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), file, Buffer.from('\r\n--b--\r\n')]);
      res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary=b' }).end(body);
    });
    expect(await failure(new DicomWebClient({ url: server.url }).retrieveInstance('1.2', '1.3', '1.4'))).toMatchObject({ code: 'PACS_BAD_RESPONSE' });
  });

  it('cancellation stops a request in flight and a backoff wait, without retrying', async () => {
    const hang = await fake(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    expect(await failure(new DicomWebClient({ url: hang.url, retries: 3 }).searchStudies({}, { signal: controller.signal }))).toMatchObject({ code: 'PACS_CANCELLED' });
    expect(hang.requests).toBe(1);

    const failing = await fake((_req, res) => res.writeHead(500).end());
    const backoff = new AbortController();
    setTimeout(() => backoff.abort(), 200);
    expect(await failure(new DicomWebClient({ url: failing.url, retries: 3, retryDelayMs: 10_000 }).searchStudies({}, { signal: backoff.signal }))).toMatchObject({ code: 'PACS_CANCELLED' });
    expect(failing.requests).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  describe('STOW-RS reports', () => {
    let dir: string;
    const files: Buffer[] = [];
    const uids: string[] = [];
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'resight-stow-'));
      for (let i = 0; i < 3; i++) {
        const f = path.join(dir, `${i}.dcm`);
        execFileSync('cp', [NORMAL, f]);
        execFileSync('dcmodify', ['-nb', '-gin', f]);
        files.push(await readFile(f));
        uids.push(tag(f, '0008,0018'));
      }
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('maps stored, failed and unconfirmed instances, from one multipart request', async () => {
      let parts: Buffer[] = [];
      const server = await fake((req, res, _n, body) => {
        parts = parseMultipart(req.headers['content-type']!, body).map((p) => p.body);
        const ref = (uid: string, extra: object = {}): object => ({ '00081155': { vr: 'UI', Value: [uid] }, ...extra });
        res.writeHead(202, { 'content-type': 'application/dicom+json' }).end(
          JSON.stringify({
            '00081199': { vr: 'SQ', Value: [ref(uids[0]!)] },
            '00081198': { vr: 'SQ', Value: [ref(uids[1]!, { '00081197': { vr: 'US', Value: [0xa901] } })] },
          }),
        );
      });
      const results = await new DicomWebClient({ url: server.url }).store(files);
      expect(parts.map((p, i) => Buffer.compare(p, files[i]!))).toEqual([0, 0, 0]);
      expect(results[0]).toEqual({ index: 0, sopInstanceUid: uids[0], status: 'stored' });
      expect(results[1]).toMatchObject({ status: 'failed', sopInstanceUid: uids[1], reason: expect.stringMatching(/does not match its SOP class \(reason 0xA901\)/) });
      expect(results[2]).toMatchObject({ status: 'failed', sopInstanceUid: uids[2], reason: 'the PACS did not confirm that it stored this instance' });
    });

    it('a 409 without a report fails every instance; a server down fails them without throwing', async () => {
      const conflict = await fake((_req, res) => res.writeHead(409).end());
      const refused = await new DicomWebClient({ url: conflict.url }).store(files.slice(0, 2));
      expect(refused.map((r) => r.status)).toEqual(['failed', 'failed']);
      expect(refused[0]).toMatchObject({ reason: 'the PACS refused the upload (HTTP 409)' });

      await conflict.close();
      const down = await new DicomWebClient({ url: conflict.url, retries: 0 }).store(files.slice(0, 2));
      expect(down).toEqual([
        expect.objectContaining({ status: 'failed', code: 'PACS_UNREACHABLE', sopInstanceUid: uids[0] }),
        expect.objectContaining({ status: 'failed', code: 'PACS_UNREACHABLE', sopInstanceUid: uids[1] }),
      ]);
    });
  });
});

describe.skipIf(!orthancAvailable())('a flaky network in front of Orthanc', () => {
  let orthanc: OrthancServer;
  let proxy: FaultProxy | undefined;
  const { study, series, sop } = { study: tag(NORMAL, '0020,000d'), series: tag(NORMAL, '0020,000e'), sop: tag(NORMAL, '0008,0018') };

  beforeAll(async () => {
    orthanc = await startOrthanc();
    await uploadToOrthanc(orthanc, [await readFile(NORMAL)]);
  });
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });
  afterAll(async () => {
    await orthanc?.stop();
  });

  // A new proxy per test, so no kept-alive connection from an earlier test slips past the fault.
  const through = async (fault: Parameters<typeof startFaultProxy>[1], options: { timeoutMs?: number; retries?: number } = {}): Promise<DicomWebClient> => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: orthanc.port }, fault);
    return new DicomWebClient({ url: `${proxy.origin}/dicom-web/`, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password }, retryDelayMs: 20, ...options });
  };

  it('a connection cut half way through a retrieve is retried and never yields a partial instance', async () => {
    const client = await through({ dropAfterBytes: 50_000 }, { retries: 2 });
    const err = await failure(client.retrieveInstance(study, series, sop));
    expect(err.code).toBe('PACS_BAD_RESPONSE');
    expect(err.message).toMatch(/closed before the whole answer arrived.*3 attempts/);
    expect(proxy!.connections).toBe(3);
  });

  it('a cut on the first attempt only is cured by the retry, with the whole file', async () => {
    const client = await through({ dropAfterBytes: 50_000, times: 1 }, { retries: 2 });
    const bytes = await client.retrieveInstance(study, series, sop);
    expect(Buffer.compare(bytes, await readFile(NORMAL))).toBe(0);
    expect(sopInstanceUidOf(bytes)).toBe(sop);
    expect(proxy!.connections).toBe(2);
  });

  it('a stalled server times out per attempt (PACS_TIMEOUT); a slow one within the timeout is fine', async () => {
    const stalled = await through({ delayMs: 3000 }, { timeoutMs: 300, retries: 1 });
    const started = Date.now();
    expect(await failure(stalled.searchStudies())).toMatchObject({ code: 'PACS_TIMEOUT' });
    expect(proxy!.connections).toBe(2);
    expect(Date.now() - started).toBeLessThan(2500);
    await proxy!.stop();

    const slow = await through({ delayMs: 300 }, { timeoutMs: 3000, retries: 0 });
    expect(await slow.searchStudies()).toEqual([expect.objectContaining({ StudyInstanceUID: study })]);
  });
});
