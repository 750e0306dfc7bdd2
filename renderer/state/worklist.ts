// Runs in the renderer. The worklist for the current reader: cases with status, filters, progress,
// and "next case" for the keyboard flow.
import { create } from 'zustand';
import type { CaseStatus, Worklist } from '../../preload/api';
import { call } from '../api/client';
import { onReaderChange } from './readers';
import { useSession } from './session';
import { useStudy } from './study';

export interface WorklistFilterState {
  status: CaseStatus | 'all';
  labelId: string | 'all';
  disagreement: boolean;
}

interface WorklistStore extends Worklist {
  filter: WorklistFilterState;
  loading: boolean;
  load(): Promise<void>;
  setFilter(patch: Partial<WorklistFilterState>): void;
  addSamples(): Promise<void>;
  setFlag(imageId: string, flagged: boolean): Promise<void>;
  /** Opens the case after the open one in the list as filtered (else the first unread); false when none. */
  openNext(): Promise<boolean>;
}

export const useWorklist = create<WorklistStore>()((set, get) => ({
  cases: [],
  progress: { done: 0, total: 0 },
  filter: { status: 'all', labelId: 'all', disagreement: false },
  loading: false,
  load: async () => {
    const { filter } = get();
    set({ loading: true });
    try {
      const list = await call('worklist.list', {
        ...(filter.status !== 'all' ? { status: filter.status } : {}),
        ...(filter.labelId !== 'all' ? { labelId: filter.labelId } : {}),
        ...(filter.disagreement ? { disagreement: true } : {}),
      });
      set(list);
    } catch (err) {
      useSession.getState().reportError(err);
    } finally {
      set({ loading: false });
    }
  },
  setFilter: (patch) => {
    set((s) => ({ filter: { ...s.filter, ...patch } }));
    void get().load();
  },
  addSamples: async () => {
    try {
      const { added } = await call('worklist.addSamples', {});
      useSession.getState().inform(added ? `Added ${added} sample case${added === 1 ? '' : 's'} to the worklist.` : 'Every sample is already in the worklist.');
      await get().load();
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  setFlag: async (imageId, flagged) => {
    try {
      await call('worklist.setFlag', { imageId, flagged });
      await get().load();
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  openNext: async () => {
    await get().load();
    const { cases } = get();
    const current = useStudy.getState().info?.imageId;
    const at = cases.findIndex((c) => c.imageId === current);
    const next = (at >= 0 ? cases.slice(at + 1) : cases)[0] ?? cases.find((c) => c.status === 'unread' && c.imageId !== current);
    if (!next) {
      useSession.getState().inform('That was the last case in the worklist.');
      return false;
    }
    await useStudy.getState().open({ kind: 'case', imageId: next.imageId });
    return true;
  },
}));

onReaderChange(() => void useWorklist.getState().load());
// Opening an image adds it to the worklist.
useStudy.subscribe((s, prev) => {
  if (s.info?.imageId !== prev.info?.imageId) void useWorklist.getState().load();
});
