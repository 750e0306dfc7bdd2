// Runs in the renderer. The sample list, the open image and the frame shown (stored values), with
// stack scrolling and cine. Opening an image resets the other stores so nothing from the previous
// image lingers.
import { create } from 'zustand';
import type { FrameData, ImageInfo, SampleEntry } from '../../preload/api';
import { call, getTransport } from '../api/client';
import { useFeedback } from './feedback';
import { useFindings } from './findings';
import { useSession } from './session';
import { useViewport } from './viewport';

type Source = { kind: 'sample'; name: string } | { kind: 'file'; path: string } | { kind: 'case'; imageId: string };

interface StudyState {
  samples: SampleEntry[];
  samplesLoaded: boolean;
  info: ImageInfo | null;
  frame: FrameData | null;
  /** Index of the frame shown (0-based). */
  frameIndex: number;
  /** Playing the frames in a loop. */
  cine: boolean;
  /** Frames per second of cine. */
  cineFps: number;
  /** The sample being shown, so the list can mark it. */
  sampleName: string | null;
  opening: boolean;
  loadSamples(): Promise<void>;
  open(source: Source): Promise<void>;
  /** Electron: the native open dialog, then open what was chosen. */
  openWithDialog(): Promise<void>;
  /** Shows a frame of the open image; out-of-range indices wrap around. */
  showFrame(index: number): Promise<void>;
  stepFrame(delta: number): Promise<void>;
  toggleCine(): void;
}

let openSeq = 0;
let frameSeq = 0;
let cineTimer: ReturnType<typeof setTimeout> | null = null;

/** Decoded frames of the open image, most recent last; a stack scrolls back and forth over them. */
const FRAME_CACHE_LIMIT = 64;
const frameCache = new Map<number, FrameData>();

async function fetchFrame(imageId: string, index: number): Promise<FrameData> {
  const hit = frameCache.get(index);
  if (hit && hit.meta.imageId === imageId) {
    frameCache.delete(index);
    frameCache.set(index, hit);
    return hit;
  }
  const frame = await call('studies.getFrame', { imageId, frame: index });
  frameCache.set(index, frame);
  while (frameCache.size > FRAME_CACHE_LIMIT) frameCache.delete(frameCache.keys().next().value as number);
  return frame;
}

function stopCine(): void {
  if (cineTimer) clearTimeout(cineTimer);
  cineTimer = null;
}

export const useStudy = create<StudyState>()((set, get) => ({
  samples: [],
  samplesLoaded: false,
  info: null,
  frame: null,
  frameIndex: 0,
  cine: false,
  cineFps: 10,
  sampleName: null,
  opening: false,
  loadSamples: async () => {
    try {
      set({ samples: await call('studies.listSamples', {}), samplesLoaded: true });
    } catch (err) {
      set({ samplesLoaded: true });
      useSession.getState().reportError(err);
    }
  },
  open: async (source) => {
    // A later click wins over an earlier one still loading.
    const seq = ++openSeq;
    stopCine();
    set({ opening: true, cine: false });
    try {
      const info =
        source.kind === 'sample'
          ? await call('studies.openSample', { name: source.name })
          : source.kind === 'case'
            ? await call('worklist.open', { imageId: source.imageId })
            : await call('studies.openFile', { path: source.path });
      frameCache.clear();
      const frame = await fetchFrame(info.imageId, 0);
      if (seq !== openSeq) return;
      frameSeq++;
      useFindings.getState().reset(info.imageId);
      useViewport.getState().resetFor(info);
      set({ info, frame, frameIndex: 0, sampleName: source.kind === 'sample' ? source.name : null });
      void useFeedback.getState().load(info.imageId);
    } catch (err) {
      if (seq === openSeq) useSession.getState().reportError(err);
    } finally {
      if (seq === openSeq) set({ opening: false });
    }
  },
  openWithDialog: async () => {
    const dialog = getTransport().openFileDialog;
    if (!dialog) return;
    try {
      const path = await dialog();
      if (path) await get().open({ kind: 'file', path });
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  showFrame: async (index) => {
    const { info } = get();
    if (!info) return;
    const n = info.frames;
    const target = ((index % n) + n) % n;
    if (target === get().frameIndex && get().frame) return;
    const seq = ++frameSeq;
    try {
      const frame = await fetchFrame(info.imageId, target);
      // A later scroll wins; a frame of an image closed meanwhile is dropped.
      if (seq !== frameSeq || get().info?.imageId !== info.imageId) return;
      set({ frame, frameIndex: target });
    } catch (err) {
      stopCine();
      set({ cine: false });
      useSession.getState().reportError(err);
    }
  },
  stepFrame: (delta) => get().showFrame(get().frameIndex + delta),
  toggleCine: () => {
    const { info, cine } = get();
    stopCine();
    if (cine || !info || info.frames < 2) {
      set({ cine: false });
      return;
    }
    set({ cine: true });
    // Each tick waits for its frame, so a slow decode lowers the rate instead of piling up calls.
    const tick = async () => {
      const started = performance.now();
      await get().stepFrame(1);
      if (!get().cine) return;
      cineTimer = setTimeout(() => void tick(), Math.max(0, 1000 / get().cineFps - (performance.now() - started)));
    };
    void tick();
  },
}));
