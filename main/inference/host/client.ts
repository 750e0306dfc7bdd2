// Runs in main (Electron) and the browser-mode server. Drives the inference host process: one
// request in flight, interactive requests ahead of batch work, a restart when the host dies (the
// request in flight fails with a clear error; queued ones go to the new host).
import { ResightError, type EventPayload } from '../../../preload/api';
import type { RunOutcome } from '../ort-runner';
import { HostResponse, type HostChannel, type HostRunRequest, type HostSpawner } from './protocol';

export type Priority = 'interactive' | 'batch';
export type RunInput = Omit<HostRunRequest, 'type' | 'id'>;

export interface InferenceEngine {
  run(input: RunInput, priority?: Priority): Promise<RunOutcome>;
  close(): Promise<void>;
}

interface Job {
  id: number;
  input: RunInput;
  resolve: (outcome: RunOutcome) => void;
  reject: (err: Error) => void;
}

export class HostClient implements InferenceEngine {
  private channel: HostChannel | undefined;
  private ready: Promise<void> | undefined;
  private readonly queues: Record<Priority, Job[]> = { interactive: [], batch: [] };
  private inFlight: Job | undefined;
  private nextId = 1;
  private closed = false;
  private pid: number | undefined;

  /** Restarts counted for tests and diagnostics. */
  restarts = 0;

  /**
   * `maxRssBytes` bounds the host's memory: sessions for several large models, or a leak in a
   * provider, would otherwise grow it for the whole working day. Past the bound the host is
   * replaced between requests, which costs one session load.
   */
  constructor(
    private readonly spawn: HostSpawner,
    private readonly onStatus: (status: EventPayload<'inference.hostStatus'>) => void = () => {},
    private readonly maxRssBytes = 6 * 1024 ** 3,
  ) {}

  /** Replaces the host after the current request, without failing anything queued. */
  private recycle(): void {
    const channel = this.channel;
    if (!channel) return;
    this.channel = undefined;
    this.ready = undefined;
    this.restarts++;
    channel.postMessage({ type: 'shutdown' });
    const timer = setTimeout(() => channel.kill(), 2000);
    channel.onExit(() => clearTimeout(timer));
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    this.onStatus({ state: 'starting' });
    const channel = this.spawn();
    this.channel = channel;
    this.ready = new Promise<void>((resolve, reject) => {
      let up = false;
      channel.onMessage((raw) => {
        const parsed = HostResponse.safeParse(raw);
        if (!parsed.success) return;
        const msg = parsed.data;
        if (msg.type === 'ready') {
          up = true;
          this.pid = msg.pid;
          this.onStatus({ state: 'ready' });
          resolve();
          return;
        }
        const job = this.inFlight;
        if (!job || job.id !== msg.id) return;
        this.inFlight = undefined;
        if (msg.type === 'result') job.resolve({ outputs: msg.outputs, providerUsed: msg.providerUsed, fallbackReason: msg.fallbackReason, runMs: msg.runMs });
        else job.reject(new ResightError(msg.code, msg.message));
        if (msg.type === 'result' && msg.rssBytes !== undefined && msg.rssBytes > this.maxRssBytes) this.recycle();
        this.pump();
      });
      channel.onExit(() => {
        if (this.channel !== channel) return;
        this.channel = undefined;
        this.ready = undefined;
        const job = this.inFlight;
        this.inFlight = undefined;
        if (!up) reject(new ResightError('INFERENCE_HOST_CRASHED', 'The inference engine could not start. Restart Resight; if it repeats, reinstall it.'));
        if (this.closed) return;
        this.onStatus({ state: 'crashed', detail: 'The inference engine stopped unexpectedly and is restarting.' });
        job?.reject(
          new ResightError('INFERENCE_HOST_CRASHED', 'The inference engine stopped unexpectedly while analysing this image. It has been restarted; run the model again.'),
        );
        if (this.queues.interactive.length || this.queues.batch.length) this.pump();
      });
    });
    return this.ready;
  }

  private pump(): void {
    if (this.inFlight || this.closed) return;
    const job = this.queues.interactive.shift() ?? this.queues.batch.shift();
    if (!job) return;
    this.inFlight = job;
    this.start().then(
      () => this.channel?.postMessage({ type: 'run', id: job.id, ...job.input }),
      (err: Error) => {
        this.inFlight = undefined;
        job.reject(err);
        this.pump();
      },
    );
  }

  run(input: RunInput, priority: Priority = 'interactive'): Promise<RunOutcome> {
    if (this.closed) return Promise.reject(new ResightError('INFERENCE_CANCELLED', 'Resight is closing; the request was not run.'));
    return new Promise<RunOutcome>((resolve, reject) => {
      this.queues[priority].push({ id: this.nextId++, input, resolve, reject });
      this.pump();
    });
  }

  /** Process id of the running host, once it has said it is ready. */
  get hostPid(): number | undefined {
    return this.pid;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of [...this.queues.interactive, ...this.queues.batch]) {
      job.reject(new ResightError('INFERENCE_CANCELLED', 'Resight is closing; the request was not run.'));
    }
    this.queues.interactive = [];
    this.queues.batch = [];
    const channel = this.channel;
    this.channel = undefined;
    if (!channel) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        channel.kill();
        resolve();
      }, 2000);
      channel.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
      channel.postMessage({ type: 'shutdown' });
    });
  }
}

/** The same interface, run on the calling thread: for the CLI, which has no UI to keep responsive. */
export class InProcessEngine implements InferenceEngine {
  private runner: import('../ort-runner').OrtRunner | undefined;
  async run(input: RunInput): Promise<RunOutcome> {
    if (!this.runner) {
      const { OrtRunner } = await import('../ort-runner');
      this.runner = new OrtRunner();
    }
    return this.runner.run(input);
  }
  async close(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    await runner?.release();
  }
}
