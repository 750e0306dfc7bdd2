// Runs in the renderer. Batch reviews: the jobs the backend knows (paused ones survive a restart),
// kept current by 'batch.progress' events, and starting, pausing and resuming them.
import { create } from 'zustand';
import type { BatchJob, BatchSource, CamMethod } from '../../preload/api';
import { call, onEvent } from '../api/client';
import { useSession } from './session';

interface BatchState {
  /** Newest first. */
  jobs: BatchJob[];
  loaded: boolean;
  /** The CAM method new jobs use (the Batch tab and the PACS tab share it). */
  cam: CamMethod;
  starting: boolean;
  load(): Promise<void>;
  setCam(cam: CamMethod): void;
  /** Starts a job; null when the backend refused (its sentence is shown as a notice). */
  start(source: BatchSource): Promise<BatchJob | null>;
  pause(jobId: string): Promise<void>;
  resume(jobId: string): Promise<void>;
}

const newestFirst = (a: BatchJob, b: BatchJob) => b.startedAt.localeCompare(a.startedAt);

function upsert(jobs: BatchJob[], job: BatchJob): BatchJob[] {
  return [job, ...jobs.filter((j) => j.jobId !== job.jobId)].sort(newestFirst);
}

let listening = false;
/**
 * Events per job. Every state change is also an event, and events arrive in order; a call's reply
 * does not (a job can reach "paused" before the reply saying "pausing" lands). So a reply is shown
 * only when no event about that job came in while the call was out.
 */
const eventsSeen = new Map<string, number>();

export const useBatch = create<BatchState>()((set, get) => {
  const apply = (job: BatchJob) => set((s) => ({ jobs: upsert(s.jobs, job) }));
  const onProgress = (job: BatchJob) => {
    eventsSeen.set(job.jobId, (eventsSeen.get(job.jobId) ?? 0) + 1);
    apply(job);
  };
  const applyReply = (job: BatchJob, seenBefore: number) => {
    if ((eventsSeen.get(job.jobId) ?? 0) === seenBefore) apply(job);
  };
  const act = async (method: 'batch.pause' | 'batch.resume', jobId: string) => {
    const seen = eventsSeen.get(jobId) ?? 0;
    try {
      applyReply(await call(method, { jobId }), seen);
    } catch (err) {
      useSession.getState().reportError(err);
    }
  };
  return {
    jobs: [],
    loaded: false,
    cam: 'gradcam',
    starting: false,
    load: async () => {
      // Subscribed once, for the page's life: a job keeps reporting while another tab is open.
      if (!listening) {
        listening = true;
        onEvent('batch.progress', onProgress);
      }
      const before = new Map(eventsSeen);
      try {
        const listed = await call('batch.list', {});
        // A job that reported while the list was on its way keeps what it reported.
        const current = new Map(get().jobs.map((j) => [j.jobId, j]));
        const fresh = listed.map((j) => ((eventsSeen.get(j.jobId) ?? 0) !== (before.get(j.jobId) ?? 0) ? (current.get(j.jobId) ?? j) : j));
        set({ jobs: fresh.sort(newestFirst), loaded: true });
      } catch (err) {
        useSession.getState().reportError(err);
      }
    },
    setCam: (cam) => set({ cam }),
    start: async (source) => {
      if (!listening) await get().load();
      set({ starting: true });
      try {
        const job = await call('batch.start', { source, cam: get().cam });
        applyReply(job, 0);
        return job;
      } catch (err) {
        useSession.getState().reportError(err);
        return null;
      } finally {
        set({ starting: false });
      }
    },
    pause: (jobId) => act('batch.pause', jobId),
    resume: (jobId) => act('batch.resume', jobId),
  };
});
