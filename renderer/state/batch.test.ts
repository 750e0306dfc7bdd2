// Runs in tests (Node, no DOM). The batch jobs list follows the events: a call's reply that lands
// after a newer event about the same job does not take the job back to an older state.
import { describe, expect, it, vi } from 'vitest';
import type { BatchJob } from '../../preload/api';

let emit: (job: BatchJob) => void = () => undefined;
const replies: Record<string, () => Promise<unknown>> = {};
vi.mock('../api/client', () => ({
  call: (method: string) => replies[method]!(),
  getTransport: () => ({ frontDoor: 'browser' }),
  onEvent: (_name: string, listener: (job: BatchJob) => void) => {
    emit = listener;
    return () => undefined;
  },
}));

const { useBatch } = await import('./batch');

const job = (patch: Partial<BatchJob>): BatchJob => ({
  jobId: 'j1',
  state: 'running',
  source: 'folder',
  description: '/data/films',
  cam: 'gradcam',
  model: { id: 'resnet18-cxr-phantom', version: '1.0.0' },
  total: 24,
  done: 0,
  resumed: 0,
  failed: 0,
  etaSeconds: null,
  outDir: '/data/batch/j1',
  bundle: null,
  error: null,
  startedAt: '2026-11-26T23:00:00.000Z',
  ...patch,
});

describe('batch jobs', () => {
  it('keeps the state events reported over a late reply', async () => {
    replies['batch.list'] = async () => [job({ state: 'running', done: 0 })];
    await useBatch.getState().load();
    expect(useBatch.getState().jobs.map((j) => j.state)).toEqual(['running']);

    // The job pauses (events "pausing", then "paused") before the pause call's reply lands.
    let answer: (j: BatchJob) => void = () => undefined;
    replies['batch.pause'] = () => new Promise((r) => (answer = r));
    const pausing = useBatch.getState().pause('j1');
    emit(job({ state: 'pausing', done: 8 }));
    emit(job({ state: 'paused', done: 8 }));
    answer(job({ state: 'pausing', done: 8 }));
    await pausing;
    expect(useBatch.getState().jobs[0]).toMatchObject({ state: 'paused', done: 8 });

    // With no event meanwhile the reply is what there is to show.
    replies['batch.resume'] = async () => job({ state: 'running', done: 8 });
    await useBatch.getState().resume('j1');
    expect(useBatch.getState().jobs[0]).toMatchObject({ state: 'running', done: 8 });
  });

  it('lists the newest job first', async () => {
    replies['batch.list'] = async () => [job({ jobId: 'old', startedAt: '2026-01-01T00:00:00.000Z' }), job({ jobId: 'new', startedAt: '2026-02-01T00:00:00.000Z' })];
    await useBatch.getState().load();
    expect(useBatch.getState().jobs.map((j) => j.jobId)).toEqual(['new', 'old']);
  });
});
