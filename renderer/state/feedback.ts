// Runs in the renderer. The reader's verdict and note on the open image: prefilled from the last
// saved record, saved as a new version on request.
import { create } from 'zustand';
import type { FeedbackRecord, Verdict } from '../../preload/api';
import { call } from '../api/client';
import { useSession } from './session';

interface FeedbackState {
  imageId: string | null;
  verdict: Verdict | null;
  note: string;
  saved: FeedbackRecord | null;
  loading: boolean;
  saving: boolean;
  load(imageId: string): Promise<void>;
  setVerdict(verdict: Verdict): void;
  setNote(note: string): void;
  save(target: { resultId: number | null; labelId: string | null }): Promise<void>;
}

export const useFeedback = create<FeedbackState>()((set, get) => ({
  imageId: null,
  verdict: null,
  note: '',
  saved: null,
  loading: false,
  saving: false,
  load: async (imageId) => {
    set({ imageId, verdict: null, note: '', saved: null, loading: true });
    try {
      const latest = await call('feedback.latest', { imageId });
      if (get().imageId !== imageId) return;
      set(latest ? { verdict: latest.verdict, note: latest.note, saved: latest } : {});
    } catch (err) {
      useSession.getState().reportError(err);
    } finally {
      if (get().imageId === imageId) set({ loading: false });
    }
  },
  setVerdict: (verdict) => set({ verdict }),
  setNote: (note) => set({ note }),
  save: async ({ resultId, labelId }) => {
    const { imageId, verdict, note, saving } = get();
    if (!imageId || !verdict || saving) return;
    set({ saving: true });
    try {
      const saved = await call('feedback.save', { imageId, resultId, labelId, verdict, note });
      if (get().imageId === imageId) set({ saved });
    } catch (err) {
      useSession.getState().reportError(err);
    } finally {
      set({ saving: false });
    }
  },
}));
