// Runs in main, the server and the CLI. A small pool of worker threads that decode DICOM files,
// so codecs never block the caller's event loop. A worker that hangs past the time limit, dies,
// or reports damaged WebAssembly state is replaced; the request fails with a typed error.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ResightError, type ErrorCode } from '../../preload/api';
import type { TargetSize } from './codecs';
import type { DecodedDicom, DecodedForSize } from './image';

export interface WorkerRequest {
  id: number;
  path: string;
  maxImageBytes: number;
  /** Decode only this frame, at the smallest size covering the target (absent: every frame in full). */
  sized?: { target: TargetSize; frame: number };
}

/** Compile the codecs and run a few decodes ahead of the first request. */
export interface WarmRequest {
  warm: true;
}

/** Sent once a worker has warmed up: how many warm-up decodes succeeded. */
export interface WarmReply {
  warmed: number;
}

export type WorkerReply =
  | ({ id: number; ok: true; sha256: string } & (DecodedDicom | DecodedForSize))
  | { id: number; ok: false; code: ErrorCode; message: string; fatal?: boolean };

export interface DecodeResult extends DecodedDicom {
  sha256: string;
}

export interface SizedDecodeResult extends DecodedForSize {
  sha256: string;
}

type Resolved = DecodeResult | SizedDecodeResult;

/** Where the bundled worker lives: beside any dist/<target>/ bundle, or dist/ from the sources. */
export function workerScript(): string {
  const here = [path.join(__dirname, 'decode-worker.cjs'), path.join(__dirname, '..', 'imaging', 'decode-worker.cjs')];
  const candidates = [
    process.env.RESIGHT_DECODE_WORKER,
    // Packaged: a worker script unpacked beside app.asar loads without asar support in the worker.
    ...here.map((p) => p.replace(`app.asar${path.sep}`, `app.asar.unpacked${path.sep}`)),
    ...here,
    path.resolve(__dirname, '..', '..', 'dist', 'imaging', 'decode-worker.cjs'),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new ResightError('INTERNAL', 'The image decoder is missing from this installation. Reinstall Resight.');
  return found;
}

interface Slot {
  worker: Worker;
  /** Takes only interactive sized decodes, and only while every other worker is busy. */
  reserved: boolean;
  /** Asked to warm up (once per worker, however many backends share the pool). */
  warming?: boolean;
  busy?: { request: WorkerRequest; resolve: (r: Resolved) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
}

/**
 * Who waits for a sized decode: a reader ('interactive': a film's first frame, its view's level, the
 * model's input for the viewer) or nobody in particular ('background': thumbnails, indexing, batch
 * review, which wait behind full decodes).
 */
export type DecodePriority = 'interactive' | 'background';

/**
 * Queue order: interactive sized decodes, then full decodes (newest first: the film the reader is
 * on now, not one they have moved past), then background sized decodes.
 */
const RANK = { interactive: 0, full: 1, background: 2 } as const;

interface Queued {
  request: WorkerRequest;
  rank: (typeof RANK)[keyof typeof RANK];
  resolve: (r: Resolved) => void;
  reject: (e: Error) => void;
}

export interface PoolOptions {
  size?: number;
  /** A request running longer than this is abandoned and its worker replaced. */
  timeoutMs?: number;
  /** The worker's script (tests substitute misbehaving ones). */
  script?: string;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Queued[] = [];
  private nextId = 1;
  private readonly size: number;
  private readonly timeoutMs: number;
  private readonly script?: string;
  /** Workers replaced after a crash, hang or damaged codec state (for tests and diagnostics). */
  replaced = 0;
  /** Warm-up decodes the workers have run (for tests and diagnostics). */
  warmedDecodes = 0;

  constructor(options: PoolOptions = {}) {
    this.size = options.size ?? Math.max(1, Math.min(4, os.availableParallelism() - 1));
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.script = options.script;
  }

  decode(filePath: string, maxImageBytes: number): Promise<DecodeResult> {
    return this.submit({ path: filePath, maxImageBytes }, RANK.full) as Promise<DecodeResult>;
  }

  /** One frame at the smallest size covering `target` (see decodeDicomForSize). */
  decodeForSize(filePath: string, maxImageBytes: number, target: TargetSize, frame: number, priority: DecodePriority = 'interactive'): Promise<SizedDecodeResult> {
    return this.submit({ path: filePath, maxImageBytes, sized: { target, frame } }, RANK[priority]) as Promise<SizedDecodeResult>;
  }

  private submit(request: Omit<WorkerRequest, 'id'>, rank: Queued['rank']): Promise<Resolved> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, ...request }, rank, resolve, reject });
      this.pump();
    });
  }

  /**
   * Starts the workers and has them compile the WebAssembly codecs now, so the first image a reader
   * opens does not wait for either (a few hundred milliseconds). Nothing waits for it.
   */
  warm(): void {
    while (this.slots.filter((s) => !s.reserved).length < this.size) this.spawn(false);
    if (!this.slots.some((s) => s.reserved)) this.spawn(true);
    for (const slot of this.slots.filter((s) => !s.warming)) {
      slot.warming = true;
      slot.worker.postMessage({ warm: true } satisfies WarmRequest);
    }
  }

  /** Decode requests taken so far (tests check which calls decode and which reuse a decode). */
  get requests(): number {
    return this.nextId - 1;
  }

  /** Live workers (each answered its last request or is working on one). */
  get workers(): number {
    return this.slots.length;
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const q of this.queue.splice(0)) q.reject(new ResightError('DECODE_FAILED', 'Image decoding was stopped because Resight is closing.'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /**
   * Interactive sized decodes go first and take a worker of their own when the others are busy:
   * the reader's next film is not held behind the previous film's full decode (seconds), nor
   * behind a study's thumbnails.
   */
  private pump(): void {
    while (this.queue.length) {
      const next = this.queue.reduce((best, q, i) => {
        const b = this.queue[best]!;
        return q.rank < b.rank || (q.rank === RANK.full && b.rank === RANK.full) ? i : best;
      }, 0);
      let slot = this.slots.find((s) => !s.busy && !s.reserved);
      if (!slot && this.slots.filter((s) => !s.reserved).length < this.size) slot = this.spawn(false);
      if (!slot && this.queue[next]!.rank === RANK.interactive) {
        slot = this.slots.find((s) => !s.busy && s.reserved) ?? (this.slots.some((s) => s.reserved) ? undefined : this.spawn(true));
      }
      if (!slot) return;
      const [job] = this.queue.splice(next, 1) as [Queued];
      const timer = setTimeout(() => this.fail(slot!, new ResightError('DECODE_FAILED', 'Decoding this image took too long and was stopped. The file may be damaged.')), this.timeoutMs);
      slot.busy = { ...job, timer };
      // Keep the process alive only while a worker has work.
      slot.worker.ref();
      slot.worker.postMessage(job.request);
    }
  }

  private spawn(reserved: boolean): Slot {
    const worker = new Worker(this.script ?? workerScript());
    const slot: Slot = { worker, reserved };
    worker.on('message', (reply: WorkerReply | WarmReply) => {
      if ('warmed' in reply) this.warmedDecodes += reply.warmed;
      else this.settle(slot, reply);
    });
    worker.on('error', () => this.fail(slot, new ResightError('DECODE_FAILED', 'The image decoder stopped unexpectedly on this file. The file may be damaged.')));
    worker.on('exit', () => this.fail(slot, new ResightError('DECODE_FAILED', 'The image decoder stopped unexpectedly on this file. The file may be damaged.')));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private settle(slot: Slot, reply: WorkerReply): void {
    const job = slot.busy;
    if (!job || job.request.id !== reply.id) return;
    clearTimeout(job.timer);
    slot.busy = undefined;
    slot.worker.unref();
    if (reply.ok) {
      const { id: _id, ok: _ok, ...result } = reply;
      job.resolve(result);
    } else {
      job.reject(new ResightError(reply.code, reply.message));
      if (reply.fatal) this.retire(slot);
    }
    this.pump();
  }

  private fail(slot: Slot, error: ResightError): void {
    const job = slot.busy;
    slot.busy = undefined;
    if (job) {
      clearTimeout(job.timer);
      job.reject(error);
    }
    this.retire(slot);
    this.pump();
  }

  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    this.replaced++;
    slot.worker.removeAllListeners();
    // An 'error' after removal must not crash the process.
    slot.worker.on('error', () => undefined);
    void slot.worker.terminate();
  }
}

let shared: DecodePool | undefined;

/** The process-wide pool (created on first use). */
export function decodePool(): DecodePool {
  shared ??= new DecodePool();
  return shared;
}
