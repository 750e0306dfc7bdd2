// Runs in the renderer. The sample list and the open image with its first frame of stored values.
// Opening an image resets the other stores so nothing from the previous image lingers.
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
  /** The sample being shown, so the list can mark it. */
  sampleName: string | null;
  opening: boolean;
  loadSamples(): Promise<void>;
  open(source: Source): Promise<void>;
  /** Electron: the native open dialog, then open what was chosen. */
  openWithDialog(): Promise<void>;
}

let openSeq = 0;

export const useStudy = create<StudyState>()((set, get) => ({
  samples: [],
  samplesLoaded: false,
  info: null,
  frame: null,
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
    set({ opening: true });
    try {
      const info =
        source.kind === 'sample'
          ? await call('studies.openSample', { name: source.name })
          : source.kind === 'case'
            ? await call('worklist.open', { imageId: source.imageId })
            : await call('studies.openFile', { path: source.path });
      const frame = await call('studies.getFrame', { imageId: info.imageId, frame: 0 });
      if (seq !== openSeq) return;
      useFindings.getState().reset(info.imageId);
      useViewport.getState().resetFor(info);
      set({ info, frame, sampleName: source.kind === 'sample' ? source.name : null });
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
}));
