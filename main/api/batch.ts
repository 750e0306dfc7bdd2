// Runs in main and the browser-mode server. Batch review jobs: the active model over a folder or
// PACS studies, in the background at batch priority (a reader's own requests go first), with
// progress events, pause and resume. Jobs are kept in settings; one that a restart interrupted
// comes back paused, and resuming it skips every item already committed.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { BatchJob, BatchSource, ResightError } from '../../preload/api';
import type { InferenceEngine } from '../inference/host/client';
import type { ModelRegistry } from '../inference/registry';
import type { InferenceSettings } from '../inference/service';
import type { DicomWebClient } from '../pacs/client';
import { pacsItems } from '../review/pacs-source';
import { resultsCsv, reviewBundle, runReview } from '../review/review';
import { localItems, type ReviewItem } from '../review/sources';
import type { DatabaseKey } from '../store/database';
import type { Store } from '../store/repositories';
import type { Handlers } from './dispatch';
import type { EventHub } from './events';

const KEY = 'batch.jobs';

/** The API's BatchJob as kept in settings: the whole source instead of its summary, and no ETA (it lives in memory). */
const StoredJob = BatchJob.omit({ source: true, description: true, etaSeconds: true }).extend({ source: BatchSource });
type StoredJob = z.infer<typeof StoredJob>;

export interface BatchDeps {
  store: Store;
  dbPath: string;
  /** The database's key when it is encrypted, asked for each time a connection opens (it can change). */
  dbKey: () => DatabaseKey | undefined;
  dataDir: string;
  appRoot: string;
  registry: ModelRegistry;
  engine: InferenceEngine;
  settings: InferenceSettings;
  events: EventHub;
  activeModel: () => { id: string; version: string } | null;
  pacsClient: (serverId: string) => DicomWebClient;
  log: (line: string) => void;
}

export interface BatchRunner {
  handlers: Pick<Handlers, 'batch.start' | 'batch.pause' | 'batch.resume' | 'batch.list'>;
  /** Pauses running jobs and waits for their batches in flight (on quit). */
  stop(): Promise<void>;
}

export function batchJobs(deps: BatchDeps): BatchRunner {
  type Counts = Pick<StoredJob, 'total' | 'done' | 'resumed' | 'failed'>;
  type Live = { controller: AbortController; finished: Promise<void>; eta: number | null; counts?: Counts };
  const live = new Map<string, Live>();
  const load = (): StoredJob[] => {
    const r = z.array(StoredJob).safeParse(deps.store.getSetting(KEY));
    return r.success ? r.data : [];
  };
  // A job that was running when the app stopped is paused now: nothing runs it any more.
  const initial = load();
  if (initial.some((j) => j.state === 'running' || j.state === 'pausing')) {
    deps.store.setSetting(KEY, initial.map((j) => (j.state === 'running' || j.state === 'pausing' ? { ...j, state: 'paused' as const } : j)), 'resight');
  }

  const view = (stored: StoredJob): BatchJob => {
    const { source, ...job } = { ...stored, ...live.get(stored.jobId)?.counts };
    const studies = source.kind === 'pacs' ? source.studyInstanceUids.length : 0;
    return {
      ...job,
      source: source.kind,
      description: source.kind === 'folder' ? source.path : `${studies} PACS ${studies === 1 ? 'study' : 'studies'}`,
      etaSeconds: job.state === 'running' ? (live.get(job.jobId)?.eta ?? null) : null,
    };
  };
  const find = (jobId: string): StoredJob => {
    const j = load().find((x) => x.jobId === jobId);
    if (!j) throw new ResightError('NOT_FOUND', 'There is no batch review with that id.');
    return j;
  };
  /** State changes are stored (and audited); progress counts live in memory until the next change. */
  const update = (jobId: string, patch: Partial<StoredJob>): StoredJob => {
    const all = load();
    const j = all.find((x) => x.jobId === jobId)!;
    const next = { ...j, ...live.get(jobId)?.counts, ...patch };
    deps.store.setSetting(KEY, all.map((x) => (x.jobId === jobId ? next : x)), 'batch review');
    deps.events.emit('batch.progress', view(next));
    return next;
  };

  const items = async (job: StoredJob, signal: AbortSignal): Promise<{ items: ReviewItem[]; failed: number }> => {
    if (job.source.kind === 'folder') {
      if (!path.isAbsolute(job.source.path)) throw new ResightError('INVALID_ARGUMENT', 'Give the full path of the folder or DICOMDIR to review.');
      return { items: await localItems(path.normalize(job.source.path)), failed: 0 };
    }
    const r = await pacsItems(deps.pacsClient(job.source.serverId), job.source.studyInstanceUids, path.join(job.outDir, 'retrieved'), { signal });
    return { items: r.items, failed: r.failed.length };
  };

  const run = (job: StoredJob): void => {
    const controller = new AbortController();
    const entry: Live = { controller, eta: null, finished: Promise.resolve() };
    live.set(job.jobId, entry);
    entry.finished = (async () => {
      try {
        // The job's own model, even if the reader chose another one since it started.
        const model = (await deps.registry.list()).find((m) => m.card.id === job.model.id && m.card.version === job.model.version);
        if (!model) throw new ResightError('MODEL_NOT_FOUND', `The model this review started with (${job.model.id} ${job.model.version}) is no longer installed.`);
        const found = await items(job, controller.signal);
        const outcome = await runReview(found.items, {
          out: job.outDir,
          dbPath: deps.dbPath,
          dbKey: deps.dbKey(),
          model,
          engine: deps.engine,
          settings: deps.settings,
          cam: job.cam,
          // A job's own items carry over between its runs; so do items another job already did.
          resume: true,
          actor: 'batch review',
          signal: controller.signal,
          onProgress: (p) => {
            entry.eta = p.etaSeconds;
            entry.counts = { total: p.total, done: p.done, resumed: p.resumed, failed: p.failed + found.failed };
            deps.events.emit('batch.progress', view(find(job.jobId)));
          },
        });
        await writeFile(path.join(job.outDir, 'results.csv'), await resultsCsv(found.items, deps.dbPath, model, deps.dbKey()));
        if (outcome.paused) {
          update(job.jobId, { state: 'paused' });
          return;
        }
        const made = await reviewBundle(deps.dbPath, job.outDir, outcome.imageIds, { appRoot: deps.appRoot, dbKey: deps.dbKey() });
        update(job.jobId, {
          state: 'finished',
          bundle: made.path,
          error: made.skipped ? { code: 'NOTHING_TO_EXPORT', message: `${made.skipped} Export from the Export panel to choose what to include.` } : null,
        });
      } catch (err) {
        const error =
          err instanceof ResightError ? { code: err.code, message: err.message } : { code: 'REVIEW_FAILED' as const, message: 'The batch review stopped on an unexpected error. Resume it to try again.' };
        if (!(err instanceof ResightError)) deps.log(`batch review ${job.jobId} failed: ${err instanceof Error ? err.name : 'error'}`);
        // Cancelling a PACS retrieve to pause is a pause, not a failure.
        update(job.jobId, controller.signal.aborted ? { state: 'paused' } : { state: 'failed', error });
      } finally {
        live.delete(job.jobId);
      }
    })();
  };

  const start = (job: StoredJob): BatchJob => {
    const next = update(job.jobId, { state: 'running', error: null, bundle: null });
    run(next);
    return view(next);
  };

  return {
    handlers: {
      'batch.start': async ({ source, cam }) => {
        if (source.kind === 'folder' && !path.isAbsolute(source.path)) throw new ResightError('INVALID_ARGUMENT', 'Give the full path of the folder or DICOMDIR to review.');
        if (source.kind === 'pacs') deps.pacsClient(source.serverId);
        const active = await deps.registry.active(deps.activeModel());
        const jobId = `${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
        const job: StoredJob = {
          jobId,
          source,
          cam,
          model: { id: active.card.id, version: active.card.version },
          state: 'paused',
          total: 0,
          done: 0,
          resumed: 0,
          failed: 0,
          outDir: path.join(deps.dataDir, 'batch', jobId),
          bundle: null,
          error: null,
          startedAt: new Date().toISOString(),
        };
        deps.store.setSetting(KEY, [...load(), job], 'batch review');
        return start(job);
      },
      'batch.pause': async ({ jobId }) => {
        const job = find(jobId);
        const running = live.get(jobId);
        if (!running) return view(job);
        running.controller.abort();
        return view(update(jobId, { state: 'pausing' }));
      },
      'batch.resume': async ({ jobId }) => {
        const job = find(jobId);
        if (live.has(jobId)) return view(job);
        if (job.state === 'finished') throw new ResightError('INVALID_ARGUMENT', 'That batch review has finished; start a new one to run it again.');
        return start(job);
      },
      'batch.list': async () => load().map(view).reverse(),
    },
    stop: async () => {
      for (const entry of live.values()) entry.controller.abort();
      await Promise.all([...live.values()].map((e) => e.finished));
    },
  };
}
