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

export const useBatch = create<BatchState>()((set, get) => {
  const apply = (job: BatchJob) => set((s) => ({ jobs: upsert(s.jobs, job) }));
  const act = async (method: 'batch.pause' | 'batch.resume', jobId: string) => {
    try {
      apply(await call(method, { jobId }));
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
        onEvent('batch.progress', apply);
      }
      try {
        const listed = await call('batch.list', {});
        set({ jobs: [...listed].sort(newestFirst), loaded: true });
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
        apply(job);
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
