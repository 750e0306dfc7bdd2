// Runs in the renderer. The several-readers views: agreement per label, the adjudication queue,
// and the researcher's CAM-against-region scores. Loaded on demand (they read the whole store).
import { create } from 'zustand';
import type { AdjudicationQueue, AgreementSummary, CamOverlapReport } from '../../preload/api';
import { call } from '../api/client';
import { useSession } from './session';

interface AgreementStore {
  summary: AgreementSummary | null;
  queue: AdjudicationQueue | null;
  overlap: CamOverlapReport | null;
  loadAgreement(): Promise<void>;
  loadOverlap(): Promise<void>;
  decide(imageId: string, labelId: string, present: boolean, note: string): Promise<void>;
}

export const useAgreement = create<AgreementStore>()((set, get) => ({
  summary: null,
  queue: null,
  overlap: null,
  loadAgreement: async () => {
    try {
      const [summary, queue] = await Promise.all([call('agreement.summary', {}), call('adjudication.queue', {})]);
      set({ summary, queue });
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  loadOverlap: async () => {
    try {
      set({ overlap: await call('research.camOverlap', {}) });
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  decide: async (imageId, labelId, present, note) => {
    try {
      await call('adjudication.decide', { imageId, labelId, present, note });
      await get().loadAgreement();
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
}));
