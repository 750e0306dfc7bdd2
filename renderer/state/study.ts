// Runs in the renderer. The sample list, the open image and the frame shown (stored values), with
// stack scrolling and cine. Opening an image resets the other stores so nothing from the previous
// image lingers. Display is progressive: the frame decoded on opening is drawn first, then the
// frame the size the view needs, then the full one; each sharper one replaces the one shown in
// place.
// A series opened from the study browser is a stack of files: stepping past a file's last frame
// opens the next file, keeping the window and the view.
import { create } from 'zustand';
import type { FrameData, ImageInfo, SampleEntry } from '../../preload/api';
import { call, getTransport } from '../api/client';
import { InFlight, previewTarget, type Size } from '../viewer/progressive';
import { useFeedback } from './feedback';
import { useFindings } from './findings';
import { useSession } from './session';
import { useViewport } from './viewport';

type Source = { kind: 'sample'; name: string } | { kind: 'file'; path: string } | { kind: 'case'; imageId: string };

/** A series opened from the study browser: one file per instance, in the series' order. */
export interface SeriesStack {
  seriesInstanceUid: string;
  instances: { path: string; frames: number }[];
  /** Index of the instance open now. */
  position: number;
}

interface StudyState {
  samples: SampleEntry[];
  samplesLoaded: boolean;
  info: ImageInfo | null;
  /** The frame on screen: a reduced one (smaller than info says) until the full one has come. */
  frame: FrameData | null;
  /** Index of the frame shown (0-based). */
  frameIndex: number;
  /** Playing the frames in a loop. */
  cine: boolean;
  /** Frames per second of cine. */
  cineFps: number;
  /** The sample being shown, so the list can mark it. */
  sampleName: string | null;
  /** The series being stepped through, when the image came from the study browser. */
  stack: SeriesStack | null;
  opening: boolean;
  loadSamples(): Promise<void>;
  open(source: Source): Promise<void>;
  /** Opens one instance of a series (the first by default); the wheel and ↑↓ then walk the series. */
  openSeries(stack: SeriesStack): Promise<void>;
  /** Electron: the native open dialog, then open what was chosen. */
  openWithDialog(): Promise<void>;
  /** Shows a frame of the open image; out-of-range indices wrap around. */
  showFrame(index: number): Promise<void>;
  /** The next or previous frame; in a series, past a file's frames, the next or previous file. */
  stepFrame(delta: number): Promise<void>;
  /** Whether stepping shows anything else (several frames, or a series of several files). */
  canStep(): boolean;
  /** Asks for the full frame when a reduced one is shown (one request, however often asked). */
  ensureFullFrame(): Promise<void>;
  toggleCine(): void;
}

let openSeq = 0;
let frameSeq = 0;
let cineTimer: ReturnType<typeof setTimeout> | null = null;

/** The primary view's size in device pixels, reported by the viewer: what a first frame needs. */
let viewSize: Size = { width: 0, height: 0 };
export function reportViewSize(size: Size): void {
  viewSize = size;
}

/** Full decoded frames of the open image, most recent last; a stack scrolls back and forth over them. */
const FRAME_CACHE_LIMIT = 64;
const frameCache = new Map<string, FrameData>();
const fullRequests = new InFlight<FrameData>();

export const isReducedFrame = (info: Pick<ImageInfo, 'width' | 'height'>, frame: FrameData): boolean =>
  frame.meta.width < info.width || frame.meta.height < info.height;

function fetchFull(imageId: string, index: number): Promise<FrameData> {
  const key = `${imageId}|${index}`;
  const hit = frameCache.get(key);
  if (hit) {
    frameCache.delete(key);
    frameCache.set(key, hit);
    return Promise.resolve(hit);
  }
  return fullRequests.run(key, async () => {
    const frame = await call('studies.getFrame', { imageId, frame: index });
    frameCache.set(key, frame);
    while (frameCache.size > FRAME_CACHE_LIMIT) frameCache.delete(frameCache.keys().next().value as string);
    return frame;
  });
}

const pixelCount = (f: FrameData): number => f.meta.width * f.meta.height;

/** The first of these frames to arrive; null when none does. */
function firstArriving(frames: Promise<FrameData | null>[]): Promise<FrameData | null> {
  return new Promise((resolve) => {
    let left = frames.length;
    const missed = (): void => {
      if (--left === 0) resolve(null);
    };
    for (const f of frames) f.then((frame) => (frame ? resolve(frame) : missed()), missed);
  });
}

interface Sharper {
  later: Promise<FrameData | null>[];
  full: Promise<FrameData>;
}

/**
 * The first frame worth drawing, and how to ask for the sharper ones. When the backend decoded a
 * frame on opening (`ready`), that one is fetched alone (it answers at once) and the rest are asked
 * for once it is drawn: decodes begun sooner would share the processor with that first draw.
 * Otherwise the frame the view needs and the full frame are asked for together, the smaller first
 * (a backend decoding in turn answers in that order); whichever comes first is drawn, and a backend
 * that has the full frame at hand answers that first (the reduced one is then dropped).
 */
async function firstFrame(info: ImageInfo, index: number, ready?: Size): Promise<{ first: FrameData; sharper: () => Sharper }> {
  const aspect = info.spacing ? info.spacing.row / info.spacing.column : 1;
  const target = frameCache.has(`${info.imageId}|${index}`) ? null : previewTarget(info, viewSize, aspect);
  if (!target) {
    const full = fetchFull(info.imageId, index);
    const first = await full;
    return { first, sharper: () => ({ later: [], full }) };
  }
  // A reduced frame that fails is no error: the full one decides.
  const reduced = (size: Size): Promise<FrameData | null> => call('studies.getFrame', { imageId: info.imageId, frame: index, target: size }).catch(() => null);
  const rest = (fullAfterView: boolean): Sharper => {
    const forView = reduced(target);
    // After a frame decoded on opening the backend holds no full frame, so the full request waits
    // for the view's: sent together, the two can reach a one-thread decode pool in either order,
    // and the full decode would hold up the view's frame for seconds.
    const full = fullAfterView ? forView.then(() => fetchFull(info.imageId, index)) : fetchFull(info.imageId, index);
    return { later: [forView, full.catch(() => null)], full };
  };
  const opened = ready && (ready.width !== target.width || ready.height !== target.height) ? await reduced(ready) : null;
  if (opened) return { first: opened, sharper: () => rest(true) };
  const started = rest(false);
  const first = (await firstArriving(started.later)) ?? (await started.full);
  return { first, sharper: () => (isReducedFrame(info, first) ? started : { later: [], full: started.full }) };
}

/**
 * Asks for the open image's sharper frames, once (after its first draw, or sooner when zooming
 * needs them); true when this call asked.
 */
let startSharper: () => boolean = () => false;

/** Runs `fn` once the frame now being drawn is on screen (or soon, in a hidden window that draws none). */
function afterNextDraw(fn: () => void): void {
  let done = false;
  const run = (): void => {
    if (done) return;
    done = true;
    fn();
  };
  requestAnimationFrame(() => setTimeout(run, 0));
  setTimeout(run, 100);
}

function stopCine(): void {
  if (cineTimer) clearTimeout(cineTimer);
  cineTimer = null;
}

export const useStudy = create<StudyState>()((set, get) => {
  /**
   * Replaces a reduced frame with each sharper one as it comes, while the one it replaces is still
   * on screen; a failed full frame is reported only while a reduced frame stands in for it.
   */
  const showSharper = (shown: FrameData, { later, full }: Sharper) => {
    let current = shown;
    for (const next of later) {
      void next.then((frame) => {
        if (!frame || get().frame !== current || pixelCount(frame) <= pixelCount(current)) return;
        current = frame;
        set({ frame });
      });
    }
    full.catch((err: unknown) => {
      if (get().frame === current && get().info && isReducedFrame(get().info!, current)) useSession.getState().reportError(err);
    });
  };

  const openImage = async (source: Source, opts: { stack: SeriesStack | null; keepView: boolean; lastFrame: boolean }) => {
    // A later click wins over an earlier one still loading.
    const seq = ++openSeq;
    stopCine();
    set({ opening: true, cine: false });
    try {
      // The view's size lets the backend open a large image from the frame drawn first.
      const view = viewSize.width > 0 && viewSize.height > 0 ? { view: { ...viewSize } } : {};
      const info =
        source.kind === 'sample'
          ? await call('studies.openSample', { name: source.name, ...view })
          : source.kind === 'case'
            ? await call('worklist.open', { imageId: source.imageId, ...view })
            : await call('studies.openFile', { path: source.path, ...view });
      if (seq !== openSeq) return;
      frameCache.clear();
      const index = opts.lastFrame ? info.frames - 1 : 0;
      const { first, sharper } = await firstFrame(info, index, info.firstFrame);
      if (seq !== openSeq) return;
      frameSeq++;
      useFindings.getState().reset(info.imageId);
      const viewport = useViewport.getState();
      // Stepping through a series keeps the reader's window and view, as a stack's frames do.
      const kept = opts.keepView && viewport.window ? { window: viewport.window, view: viewport.view, userInvert: viewport.userInvert } : null;
      viewport.resetFor(info);
      if (kept) useViewport.setState(kept);
      set({ info, frame: first, frameIndex: index, sampleName: source.kind === 'sample' ? source.name : null, stack: opts.stack });
      let started = false;
      startSharper = () => {
        // Only while that first frame is on screen: stepped away, the reader no longer needs it sharper.
        if (started || seq !== openSeq || get().frame !== first) return false;
        started = true;
        showSharper(first, sharper());
        return true;
      };
      afterNextDraw(startSharper);
      void useFeedback.getState().load(info.imageId);
    } catch (err) {
      if (seq === openSeq) useSession.getState().reportError(err);
    } finally {
      if (seq === openSeq) set({ opening: false });
    }
  };

  const openStackAt = (stack: SeriesStack, position: number, keepView: boolean, lastFrame: boolean) => {
    const instance = stack.instances[position];
    if (!instance) return Promise.resolve();
    return openImage({ kind: 'file', path: instance.path }, { stack: { ...stack, position }, keepView, lastFrame });
  };

  return {
    samples: [],
    samplesLoaded: false,
    info: null,
    frame: null,
    frameIndex: 0,
    cine: false,
    cineFps: 10,
    sampleName: null,
    stack: null,
    opening: false,
    loadSamples: async () => {
      try {
        set({ samples: await call('studies.listSamples', {}), samplesLoaded: true });
      } catch (err) {
        set({ samplesLoaded: true });
        useSession.getState().reportError(err);
      }
    },
    open: (source) => openImage(source, { stack: null, keepView: false, lastFrame: false }),
    openSeries: (stack) => openStackAt(stack, stack.position, false, false),
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
        const { first, sharper } = await firstFrame(info, target);
        // A later scroll wins; a frame of an image closed meanwhile is dropped.
        if (seq !== frameSeq || get().info?.imageId !== info.imageId) return;
        set({ frame: first, frameIndex: target });
        showSharper(first, sharper());
      } catch (err) {
        stopCine();
        set({ cine: false });
        useSession.getState().reportError(err);
      }
    },
    stepFrame: (delta) => {
      const { info, frameIndex, stack } = get();
      if (!info) return Promise.resolve();
      const next = frameIndex + delta;
      if (!stack || stack.instances.length < 2 || (next >= 0 && next < info.frames)) return get().showFrame(next);
      // Past this file's frames: the neighbouring file of the series, wrapping as frames do; going
      // back lands on the previous file's last frame.
      const n = stack.instances.length;
      const position = (((stack.position + Math.sign(delta)) % n) + n) % n;
      return openStackAt(stack, position, true, delta < 0);
    },
    canStep: () => {
      const { info, stack } = get();
      return !!info && (info.frames > 1 || (stack?.instances.length ?? 0) > 1);
    },
    ensureFullFrame: async () => {
      const { info, frame, frameIndex } = get();
      if (!info || !frame || !isReducedFrame(info, frame)) return;
      // The view's own frame, if not yet asked for, comes first: drawn, it is checked again, and the
      // full frame follows it anyway.
      if (startSharper()) return;
      try {
        const full = await fetchFull(info.imageId, frameIndex);
        if (get().frame === frame) set({ frame: full });
      } catch {
        // The request already on its way reports its own failure (showSharper).
      }
    },
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
  };
});
