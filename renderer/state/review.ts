// Runs in the renderer. The current reader's review of the open case: a verdict and a call per
// label, regions drawn on the image, confidence, note; undo/redo over labels and regions; save,
// sign, and "submit and open the next case" for the keyboard flow. Time on the case is counted
// from opening (or the last save) and added to the stored total with each save.
import { create } from 'zustand';
import type { ModelSummary, Region, Review, Verdict } from '../../preload/api';
import { call } from '../api/client';
import { useFeedback } from './feedback';
import { useFindings } from './findings';
import { onReaderChange } from './readers';
import { useSession } from './session';
import { useStudy } from './study';
import { useWorklist } from './worklist';

export interface LabelCall {
  verdict: Verdict | null;
  present: boolean | null;
}

export interface Draft {
  labels: Record<string, LabelCall>;
  regions: Region[];
  confidence: number | null;
  note: string;
}

export type Tool = 'select' | 'box' | 'polygon' | 'point';

const EMPTY: Draft = { labels: {}, regions: [], confidence: null, note: '' };
const HISTORY_LIMIT = 200;

interface ReviewStore {
  imageId: string | null;
  saved: Review | null;
  /** Every reader's latest review of this case (the current reader's included). */
  others: Review[];
  draft: Draft;
  past: Draft[];
  future: Draft[];
  selected: number | null;
  tool: Tool;
  /** The label new regions get: the last label marked present, else the first of the model. */
  activeLabel: string | null;
  startedAt: number;
  loading: boolean;
  saving: boolean;
  load(imageId: string | null): Promise<void>;
  setVerdict(labelId: string, verdict: Verdict): void;
  togglePresent(labelId: string): void;
  setNote(note: string): void;
  setConfidence(confidence: number | null): void;
  addRegion(region: Region): void;
  updateRegion(index: number, region: Region): void;
  deleteRegion(index: number): void;
  select(index: number | null): void;
  setTool(tool: Tool): void;
  setActiveLabel(labelId: string): void;
  undo(): void;
  redo(): void;
  save(opts?: { sign?: boolean; completeLabels?: boolean }): Promise<Review | null>;
  /** Saves with every unmarked label as absent, then opens the next case in the worklist. */
  submitAndNext(): Promise<void>;
}

/** The labels of the model in view: the result's model, else the active model. */
export function modelLabels(): ModelSummary['labels'] {
  const f = useFindings.getState();
  return f.result?.model.labels ?? f.model?.labels ?? [];
}

/** The draft a stored review reads back as (what "no unsaved changes" compares with). */
export const draftOf = (r: Review | null): Draft =>
  r
    ? {
        labels: Object.fromEntries(r.labels.map((l) => [l.labelId, { verdict: l.verdict, present: l.present }])),
        regions: r.regions,
        confidence: r.confidence,
        note: r.note,
      }
    : EMPTY;

let loadSeq = 0;

export const useReview = create<ReviewStore>()((set, get) => {
  /** Applies an edit that undo can take back. */
  const edit = (next: (d: Draft) => Draft, extra: Partial<ReviewStore> = {}) =>
    set((s) => ({ draft: next(s.draft), past: [...s.past, s.draft].slice(-HISTORY_LIMIT), future: [], ...extra }));

  return {
    imageId: null,
    saved: null,
    others: [],
    draft: EMPTY,
    past: [],
    future: [],
    selected: null,
    tool: 'select',
    activeLabel: null,
    startedAt: Date.now(),
    loading: false,
    saving: false,
    load: async (imageId) => {
      const seq = ++loadSeq;
      set({ imageId, saved: null, others: [], draft: EMPTY, past: [], future: [], selected: null, loading: imageId !== null, startedAt: Date.now() });
      if (!imageId) return;
      try {
        const [mine, all] = await Promise.all([call('review.get', { imageId }), call('review.all', { imageId })]);
        if (seq !== loadSeq) return;
        // Keys pressed while the case was loading are kept, on top of what was stored.
        const { draft, past } = get();
        const stored = draftOf(mine);
        const merged =
          past.length === 0 && draft === EMPTY
            ? stored
            : { labels: { ...stored.labels, ...draft.labels }, regions: [...stored.regions, ...draft.regions], confidence: draft.confidence ?? stored.confidence, note: draft.note || stored.note };
        set({ saved: mine, others: all, draft: merged });
      } catch (err) {
        if (seq === loadSeq) useSession.getState().reportError(err);
      } finally {
        if (seq === loadSeq) set({ loading: false });
      }
    },
    setVerdict: (labelId, verdict) =>
      edit((d) => {
        const prev = d.labels[labelId] ?? { verdict: null, present: null };
        // A new verdict replaces any own call made before; the store derives the call from it.
        return { ...d, labels: { ...d.labels, [labelId]: { verdict: prev.verdict === verdict ? null : verdict, present: null } } };
      }),
    togglePresent: (labelId) => {
      const prev = get().draft.labels[labelId] ?? { verdict: null, present: null };
      const present = prev.present !== true;
      edit((d) => ({ ...d, labels: { ...d.labels, [labelId]: { verdict: prev.verdict, present } } }), present ? { activeLabel: labelId } : {});
    },
    setNote: (note) => set((s) => ({ draft: { ...s.draft, note } })),
    setConfidence: (confidence) => edit((d) => ({ ...d, confidence })),
    addRegion: (region) => edit((d) => ({ ...d, regions: [...d.regions, region] }), { selected: get().draft.regions.length }),
    updateRegion: (index, region) => edit((d) => ({ ...d, regions: d.regions.map((r, i) => (i === index ? region : r)) })),
    deleteRegion: (index) => edit((d) => ({ ...d, regions: d.regions.filter((_, i) => i !== index) }), { selected: null }),
    select: (selected) => set({ selected }),
    setTool: (tool) => set({ tool, selected: null }),
    setActiveLabel: (activeLabel) => set({ activeLabel }),
    undo: () =>
      set((s) => {
        const prev = s.past[s.past.length - 1];
        return prev ? { draft: prev, past: s.past.slice(0, -1), future: [s.draft, ...s.future], selected: null } : {};
      }),
    redo: () =>
      set((s) => {
        const next = s.future[0];
        return next ? { draft: next, past: [...s.past, s.draft], future: s.future.slice(1), selected: null } : {};
      }),
    save: async ({ sign = false, completeLabels = false } = {}) => {
      const { imageId, draft, saving, startedAt } = get();
      if (!imageId || saving) return null;
      const labels = completeLabels
        ? modelLabels().map((l) => {
            const c = draft.labels[l.id];
            // A verdict without an own call lets the store derive the call from the model's; only
            // labels nobody said anything about count as absent.
            return { labelId: l.id, verdict: c?.verdict ?? null, present: c?.present ?? (c?.verdict ? null : false) };
          })
        : Object.entries(draft.labels)
            .filter(([, c]) => c.verdict !== null || c.present !== null)
            .map(([labelId, c]) => ({ labelId, verdict: c.verdict, present: c.present }));
      const result = useFindings.getState().result;
      set({ saving: true });
      try {
        const saved = await call('review.save', {
          imageId,
          resultId: result?.imageId === imageId ? result.resultId : null,
          labels,
          regions: draft.regions,
          confidence: draft.confidence,
          note: draft.note,
          timeSpentMs: Math.min(86_400_000, Math.max(0, Math.round(Date.now() - startedAt))),
          sign,
        });
        if (get().imageId === imageId) {
          set({ saved, draft: draftOf(saved), startedAt: Date.now(), others: [...get().others.filter((o) => o.reader !== saved.reader), saved] });
        }
        void useWorklist.getState().load();
        return saved;
      } catch (err) {
        useSession.getState().reportError(err);
        return null;
      } finally {
        set({ saving: false });
      }
    },
    submitAndNext: async () => {
      const saved = await get().save({ completeLabels: true });
      if (saved) await useWorklist.getState().openNext();
    },
  };
});

// The review follows the open image and the current reader.
useStudy.subscribe((s, prev) => {
  if (s.info?.imageId !== prev.info?.imageId) void useReview.getState().load(s.info?.imageId ?? null);
});
onReaderChange(() => {
  const imageId = useStudy.getState().info?.imageId ?? null;
  void useReview.getState().load(imageId);
  if (imageId) void useFeedback.getState().load(imageId);
});
