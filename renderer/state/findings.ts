// Runs in the renderer. The model, the latest inference result for the open image, and the CAM of
// the label the reader is looking at, by the method the reader chose (occlusion reports progress
// and can be cancelled). A second method's CAM feeds the side-by-side comparison.
import { create } from 'zustand';
import type { CamMap, CamMethod, InferenceResult, ModelSummary } from '../../preload/api';
import { call, onEvent } from '../api/client';
import { ApiError } from '../api/errors';
import { useSession } from './session';
import { useViewport } from './viewport';

export const CAM_METHODS: readonly { id: CamMethod; name: string }[] = [
  { id: 'gradcam', name: 'Grad-CAM' },
  { id: 'gradcampp', name: 'Grad-CAM++' },
  { id: 'xgradcam', name: 'XGrad-CAM' },
  { id: 'layercam', name: 'LayerCAM' },
  { id: 'hirescam', name: 'HiResCAM' },
  { id: 'eigencam', name: 'Eigen-CAM' },
  { id: 'occlusion', name: 'Occlusion' },
];

export const methodName = (m: CamMethod) => CAM_METHODS.find((x) => x.id === m)?.name ?? m;

interface Progress {
  requestId: string;
  done: number;
  total: number;
}

interface FindingsState {
  /** The active model as listed before any run (so its notice shows from the start). */
  model: ModelSummary | null;
  /** The execution provider the settings ask for; the one used comes with each result. */
  requestedProvider: string | null;
  /** True once models.list answered (so "no model" is a fact, not a failed call). */
  modelsLoaded: boolean;
  /** The open image; answers for any other image are dropped. */
  imageId: string | null;
  result: InferenceResult | null;
  /** The label whose CAM is shown; the top finding after a run. */
  selectedLabelId: string | null;
  method: CamMethod;
  cam: CamMap | null;
  /** The method shown beside the chosen one in the "two methods" layout. */
  compareMethod: CamMethod;
  compareCam: CamMap | null;
  running: boolean;
  loadingCam: boolean;
  /** Occlusion's progress while it runs. */
  progress: Progress | null;
  loadModels(): Promise<void>;
  /** Forgets everything about the previous image. */
  reset(imageId: string | null): void;
  run(imageId: string, frame: number): Promise<void>;
  select(labelId: string): Promise<void>;
  setMethod(method: CamMethod): Promise<void>;
  setCompareMethod(method: CamMethod): Promise<void>;
  /** Fetches the comparison CAM when the layout shows it and it is stale. */
  refreshCompare(): Promise<void>;
  cancelCam(): Promise<void>;
}

// Bumped by every run and reset, so only the latest run may write its answer or end "running".
let runSeq = 0;
let camSeq = 0;
let requestSeq = 0;

async function fetchCam(resultId: number, labelId: string, method: CamMethod, onProgress: (p: Progress | null) => void): Promise<CamMap> {
  if (method !== 'occlusion') return call('inference.cam', { resultId, labelId, method });
  const requestId = `cam-${Date.now().toString(36)}-${++requestSeq}`;
  onProgress({ requestId, done: 0, total: 1 });
  const off = onEvent('inference.progress', (p) => {
    if (p.requestId === requestId) onProgress(p);
  });
  try {
    return await call('inference.cam', { resultId, labelId, method, requestId });
  } finally {
    off();
    onProgress(null);
  }
}

export const useFindings = create<FindingsState>()((set, get) => {
  /** The chosen label's CAM by the chosen method, unless it is what is shown already. */
  const loadCam = async () => {
    const { result, selectedLabelId: labelId, method, cam } = get();
    if (!result || !labelId) return;
    if (cam?.labelId === labelId && cam.method === method) return;
    const seq = ++camSeq;
    set({ loadingCam: true });
    try {
      const next = await fetchCam(result.resultId, labelId, method, (progress) => {
        if (seq === camSeq) set({ progress });
      });
      if (seq === camSeq && get().result?.resultId === result.resultId) {
        set({ cam: next });
        useViewport.getState().showHeatmap();
      }
    } catch (err) {
      if (seq !== camSeq) return;
      if (err instanceof ApiError && err.code === 'INFERENCE_CANCELLED') {
        // The chooser goes back to the method of the map still on screen.
        set({ method: get().cam?.method ?? 'gradcam' });
        useSession.getState().inform('Occlusion cancelled; the previous heatmap stays.');
      } else {
        useSession.getState().reportError(err);
      }
    } finally {
      if (seq === camSeq) set({ loadingCam: false });
    }
  };

  return {
    model: null,
    requestedProvider: null,
    modelsLoaded: false,
    imageId: null,
    result: null,
    selectedLabelId: null,
    method: 'gradcam',
    cam: null,
    compareMethod: 'eigencam',
    compareCam: null,
    running: false,
    loadingCam: false,
    progress: null,
    loadModels: async () => {
      try {
        const models = await call('models.list', {});
        set({ model: models.find((m) => m.active) ?? models[0] ?? null, modelsLoaded: true });
        set({ requestedProvider: (await call('settings.get', {})).provider });
      } catch (err) {
        useSession.getState().reportError(err);
      }
    },
    reset: (imageId) => {
      runSeq++;
      camSeq++;
      set({ imageId, result: null, selectedLabelId: null, cam: null, compareCam: null, running: false, loadingCam: false, progress: null });
    },
    run: async (imageId, frame) => {
      if (get().running || get().imageId !== imageId) return;
      const seq = ++runSeq;
      camSeq++;
      set({ running: true, progress: null, loadingCam: false });
      try {
        const result = await call('inference.run', { imageId, frame });
        if (seq !== runSeq) return;
        set({ result, model: result.model, selectedLabelId: result.cam.labelId, cam: result.cam, compareCam: null });
        useViewport.getState().showHeatmap();
        await loadCam();
        void get().refreshCompare();
      } catch (err) {
        if (seq === runSeq) useSession.getState().reportError(err);
      } finally {
        if (seq === runSeq) set({ running: false });
      }
    },
    select: async (labelId) => {
      if (!get().result) return;
      set({ selectedLabelId: labelId });
      await loadCam();
      void get().refreshCompare();
    },
    setMethod: async (method) => {
      set({ method });
      await loadCam();
      void get().refreshCompare();
    },
    setCompareMethod: async (compareMethod) => {
      set({ compareMethod });
      await get().refreshCompare();
    },
    refreshCompare: async () => {
      if (useViewport.getState().layout !== 'methods') return;
      // Two views of the same method compare nothing: the right one takes another.
      if (get().compareMethod === get().method) set({ compareMethod: get().method === 'gradcam' ? 'eigencam' : 'gradcam' });
      const { result, selectedLabelId: labelId, compareMethod, compareCam } = get();
      if (!result || !labelId) return;
      if (compareCam?.labelId === labelId && compareCam.method === compareMethod) return;
      try {
        // Occlusion's progress belongs to the main view; the comparison waits quietly.
        const next = await fetchCam(result.resultId, labelId, compareMethod, () => undefined);
        const now = get();
        if (now.result?.resultId === result.resultId && now.selectedLabelId === labelId && now.compareMethod === compareMethod) set({ compareCam: next });
      } catch (err) {
        useSession.getState().reportError(err);
      }
    },
    cancelCam: async () => {
      const { progress } = get();
      if (!progress) return;
      try {
        await call('inference.cancel', { requestId: progress.requestId });
      } catch (err) {
        useSession.getState().reportError(err);
      }
    },
  };
});
