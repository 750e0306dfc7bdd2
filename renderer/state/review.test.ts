// Runs in tests (Node, no DOM). The review draft: number-key toggles, verdicts, regions, undo/redo,
// and what a save and a keyboard submit send (unmarked labels as absent on submit only).
import { beforeEach, describe, expect, it, vi } from 'vitest';

const calls: Array<{ method: string; input: Record<string, unknown> }> = [];
vi.mock('../api/client', () => ({
  call: async (method: string, input: Record<string, unknown>) => {
    calls.push({ method, input });
    if (method === 'review.save') {
      const labels = (input.labels as Array<Record<string, unknown>>).map((l) => ({ verdict: null, present: null, ...l }));
      return { reviewId: 1, imageId: input.imageId, resultId: null, reader: 'Ann', version: 1, labels, regions: input.regions, confidence: input.confidence, note: input.note, timeSpentMs: input.timeSpentMs, signed: input.sign, savedAt: 'now' };
    }
    if (method === 'review.all') return [];
    if (method === 'worklist.list') return { cases: [], progress: { done: 0, total: 0 } };
    return null;
  },
  getTransport: () => ({ frontDoor: 'browser' }),
  onEvent: () => () => undefined,
}));

const { useReview } = await import('./review');
const { useFindings } = await import('./findings');

const IMAGE = 'a'.repeat(64);
const labels = ['opacity', 'nodule', 'effusion'].map((id) => ({ id, name: id, threshold: 0.5 }));

describe('review draft', () => {
  beforeEach(async () => {
    calls.length = 0;
    useFindings.setState({ model: { id: 'm', version: '1', sha256: '', task: 'multilabel', labels, intendedUse: '', placeholder: false, notice: '' }, result: null });
    await useReview.getState().load(IMAGE);
  });

  it('toggles labels, draws regions, and undoes and redoes each step', () => {
    const r = useReview.getState;
    r().togglePresent('nodule');
    expect(r().draft.labels.nodule).toEqual({ verdict: null, present: true });
    expect(r().activeLabel).toBe('nodule');
    r().addRegion({ kind: 'box', labelId: 'nodule', x0: 1, y0: 2, x1: 30, y1: 40 });
    expect(r().selected).toBe(0);
    r().updateRegion(0, { kind: 'box', labelId: 'nodule', x0: 11, y0: 12, x1: 40, y1: 50 });
    r().togglePresent('nodule');
    expect(r().draft.labels.nodule?.present).toBe(false);
    r().undo();
    expect(r().draft.labels.nodule?.present).toBe(true);
    r().undo();
    expect(r().draft.regions[0]).toMatchObject({ x0: 1 });
    r().undo();
    expect(r().draft.regions).toHaveLength(0);
    r().redo();
    r().redo();
    expect(r().draft.regions[0]).toMatchObject({ x0: 11 });
    // A new edit after undo drops the redo branch.
    r().deleteRegion(0);
    expect(r().future).toHaveLength(0);
    expect(r().draft.regions).toHaveLength(0);
  });

  it('a verdict clears an earlier own call, and choosing it again clears the verdict', () => {
    const r = useReview.getState;
    r().togglePresent('opacity');
    r().setVerdict('opacity', 'disagree');
    expect(r().draft.labels.opacity).toEqual({ verdict: 'disagree', present: null });
    r().setVerdict('opacity', 'disagree');
    expect(r().draft.labels.opacity).toEqual({ verdict: null, present: null });
  });

  it('saves only what was said; a keyboard submit says every unmarked label is absent', async () => {
    const r = useReview.getState;
    r().togglePresent('effusion');
    r().setNote('small effusion');
    await r().save({ sign: true });
    const save = calls.find((c) => c.method === 'review.save')!.input;
    expect(save).toMatchObject({ imageId: IMAGE, resultId: null, sign: true, note: 'small effusion', labels: [{ labelId: 'effusion', verdict: null, present: true }] });
    expect(save.timeSpentMs).toBeGreaterThanOrEqual(0);
    expect(r().saved?.signed).toBe(true);

    calls.length = 0;
    r().setVerdict('nodule', 'agree');
    await r().submitAndNext();
    const submit = calls.find((c) => c.method === 'review.save')!.input;
    expect(submit.labels).toEqual([
      { labelId: 'opacity', verdict: null, present: false },
      { labelId: 'nodule', verdict: 'agree', present: null },
      { labelId: 'effusion', verdict: null, present: true },
    ]);
    expect(submit.sign).toBe(false);
  });
});

describe('review load', () => {
  it('keeps keys pressed while the case was still loading', async () => {
    const r = useReview.getState;
    const loading = r().load('b'.repeat(64));
    r().togglePresent('opacity');
    await loading;
    expect(r().draft.labels.opacity?.present).toBe(true);
  });
});
