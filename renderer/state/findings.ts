// Runs in the renderer. The model, the latest inference result for the open image, and the CAM of
// the label the reader is looking at.
import { create } from 'zustand';
import type { CamMap, InferenceResult, ModelSummary } from '../../preload/api';
import { call } from '../api/client';
import { useSession } from './session';
import { useViewport } from './viewport';

interface FindingsState {
  /** The active model as listed before any run (so its notice shows from the start). */
  model: ModelSummary | null;
  /** True once models.list answered (so "no model" is a fact, not a failed call). */
  modelsLoaded: boolean;
  /** The open image; answers for any other image are dropped. */
  imageId: string | null;
  result: InferenceResult | null;
  /** The label whose CAM is shown; the top finding after a run. */
  selectedLabelId: string | null;
  cam: CamMap | null;
  running: boolean;
  loadingCam: boolean;
  loadModels(): Promise<void>;
  /** Forgets everything about the previous image. */
  reset(imageId: string | null): void;
  run(imageId: string, frame: number): Promise<void>;
  select(labelId: string): Promise<void>;
}

// Bumped by every run and reset, so only the latest run may write its answer or end "running".
let runSeq = 0;

export const useFindings = create<FindingsState>()((set, get) => ({
  model: null,
  modelsLoaded: false,
  imageId: null,
  result: null,
  selectedLabelId: null,
  cam: null,
  running: false,
  loadingCam: false,
  loadModels: async () => {
    try {
      const models = await call('models.list', {});
      set({ model: models[0] ?? null, modelsLoaded: true });
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  reset: (imageId) => {
    runSeq++;
    set({ imageId, result: null, selectedLabelId: null, cam: null, running: false, loadingCam: false });
  },
  run: async (imageId, frame) => {
    if (get().running || get().imageId !== imageId) return;
    const seq = ++runSeq;
    set({ running: true });
    try {
      const result = await call('inference.run', { imageId, frame });
      if (seq !== runSeq) return;
      set({ result, model: result.model, selectedLabelId: result.cam.labelId, cam: result.cam });
      useViewport.getState().showHeatmap();
    } catch (err) {
      if (seq === runSeq) useSession.getState().reportError(err);
    } finally {
      if (seq === runSeq) set({ running: false });
    }
  },
  select: async (labelId) => {
    const { result, cam } = get();
    if (!result) return;
    set({ selectedLabelId: labelId });
    if (cam?.labelId === labelId) return;
    set({ loadingCam: true });
    try {
      const next = await call('inference.cam', { resultId: result.resultId, labelId });
      if (get().result?.resultId === result.resultId && get().selectedLabelId === labelId) {
        set({ cam: next });
        useViewport.getState().showHeatmap();
      }
    } catch (err) {
      useSession.getState().reportError(err);
    } finally {
      set({ loadingCam: false });
    }
  },
}));
