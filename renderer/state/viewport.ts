// Runs in the renderer. How the open image is displayed: the VOI window, the view transform
// (zoom, pan, rotation, flips, invert), the heatmap overlay settings, the mouse tool and the
// reader's measurements. Changing any of these is a uniform change in the viewer, never a re-upload.
import { create } from 'zustand';
import type { ImageInfo, VoiWindow } from '../../preload/api';
import type { Colormap } from '../viewer/colormap';
import { IDENTITY_VIEW, type ViewTransform } from '../viewer/transform';

export interface DisplayWindow {
  center: number;
  width: number;
}

export interface HeatmapSettings {
  visible: boolean;
  /** 0..1, how strongly the colour covers the image. */
  opacity: number;
  /** CAM values below this (0..1) are not drawn. */
  threshold: number;
  colormap: Colormap;
  /** Iso-lines instead of a filled map, so the anatomy underneath stays visible. */
  contour: boolean;
}

export type Tool = 'windowLevel' | 'pan' | 'zoom' | 'length' | 'angle' | 'rectangle' | 'ellipse' | 'ctr';

export type MeasurementKind = 'length' | 'angle' | 'rectangle' | 'ellipse' | 'ctr';

/** Points in image pixels (x right, y down, origin at the top-left corner of the first pixel). */
export interface Measurement {
  id: number;
  kind: MeasurementKind;
  points: [number, number][];
}

/** Points each kind needs: length/rectangle/ellipse a drag, angle a drag then a click, CTR two drags. */
export const POINTS_NEEDED: Record<MeasurementKind, number> = { length: 2, rectangle: 2, ellipse: 2, angle: 3, ctr: 4 };

/** image | image + heatmap, or the selected CAM method beside another. */
export type Layout = 'single' | 'image-heatmap' | 'methods';

export interface Preset {
  name: string;
  window: DisplayWindow;
}

/** Modality presets (CT, in HU) after the file's own windows. */
export const MODALITY_PRESETS: readonly Preset[] = [
  { name: 'Soft tissue', window: { center: 40, width: 400 } },
  { name: 'Lung', window: { center: -600, width: 1500 } },
  { name: 'Bone', window: { center: 480, width: 2500 } },
  { name: 'Brain', window: { center: 40, width: 80 } },
];

interface ViewportState {
  window: DisplayWindow | null;
  /** The file's first window, restored by "Reset window". */
  initialWindow: DisplayWindow | null;
  /** The file's windows, for preset 1 (pressed again it steps through them). */
  fileWindows: DisplayWindow[];
  /** From the open frame's histogram (1st to 99th percentile). */
  autoWindow: DisplayWindow | null;
  heatmap: HeatmapSettings;
  /** Modality values the open frame spans; scales how far a drag moves the window. */
  valueRange: { min: number; max: number } | null;
  view: ViewTransform;
  /** Shown inverted on top of what the file asks for (MONOCHROME1 stays right either way). */
  userInvert: boolean;
  tool: Tool;
  measurements: Measurement[];
  /** The measurement being drawn. */
  draft: Measurement | null;
  overlaysVisible: boolean;
  layout: Layout;
  helpOpen: boolean;
  tagsOpen: boolean;
  resetFor(info: ImageInfo): void;
  setWindow(window: DisplayWindow): void;
  setValueRange(range: { min: number; max: number } | null): void;
  setAutoWindow(window: DisplayWindow | null): void;
  resetWindow(): void;
  applyPreset(index: number): void;
  applyAutoWindow(): void;
  toggleHeatmap(): void;
  showHeatmap(): void;
  setOpacity(opacity: number): void;
  setThreshold(threshold: number): void;
  setColormap(colormap: Colormap): void;
  toggleContour(): void;
  setView(view: Partial<ViewTransform>): void;
  rotate(): void;
  flipH(): void;
  flipV(): void;
  toggleInvert(): void;
  /** Back to the file's window, fitted, unrotated, not inverted. */
  resetView(): void;
  setTool(tool: Tool): void;
  setDraft(draft: Measurement | null): void;
  commitDraft(): void;
  removeLastMeasurement(): void;
  clearMeasurements(): void;
  toggleOverlays(): void;
  setLayout(layout: Layout): void;
  cycleLayout(): void;
  setHelpOpen(open: boolean): void;
  setTagsOpen(open: boolean): void;
}

/**
 * The contract wants a positive width; LINEAR treats any width up to 1 as a threshold, while
 * LINEAR_EXACT and SIGMOID (and float data) use widths below 1.
 */
export const MIN_WINDOW_WIDTH = 1e-6;
export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 64;

const fromVoi = (w: VoiWindow): DisplayWindow => ({ center: w.center, width: Math.max(MIN_WINDOW_WIDTH, w.width) });
const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const sameWindow = (a: DisplayWindow | null, b: DisplayWindow | null) => !!a && !!b && a.center === b.center && a.width === b.width;
const LAYOUTS: readonly Layout[] = ['single', 'image-heatmap', 'methods'];
let nextMeasurementId = 1;

export const useViewport = create<ViewportState>()((set, get) => ({
  window: null,
  initialWindow: null,
  fileWindows: [],
  autoWindow: null,
  heatmap: { visible: true, opacity: 0.4, threshold: 0.3, colormap: 'viridis', contour: false },
  valueRange: null,
  view: IDENTITY_VIEW,
  userInvert: false,
  tool: 'windowLevel',
  measurements: [],
  draft: null,
  overlaysVisible: true,
  layout: 'single',
  helpOpen: false,
  tagsOpen: false,
  resetFor: (info) => {
    const fileWindows = info.windows.map(fromVoi);
    const w = fileWindows[0] ?? null;
    set({ window: w, initialWindow: w, fileWindows, autoWindow: null, valueRange: null, view: IDENTITY_VIEW, userInvert: false, measurements: [], draft: null });
  },
  setValueRange: (valueRange) => set({ valueRange }),
  setAutoWindow: (autoWindow) => set({ autoWindow }),
  setWindow: (w) => set({ window: { center: w.center, width: Math.max(MIN_WINDOW_WIDTH, w.width) } }),
  resetWindow: () => set((s) => ({ window: s.initialWindow })),
  applyPreset: (index) => {
    const { fileWindows, window: current } = get();
    if (!current) return;
    if (index === 0) {
      if (fileWindows.length === 0) return;
      // Pressed again on a file window, step to the file's next one.
      const at = fileWindows.findIndex((w) => sameWindow(w, current));
      set({ window: fileWindows[(at + 1) % fileWindows.length] ?? null });
      return;
    }
    const preset = MODALITY_PRESETS[index - 1];
    if (preset) set({ window: preset.window });
  },
  applyAutoWindow: () => set((s) => (s.autoWindow && s.window ? { window: s.autoWindow } : {})),
  toggleHeatmap: () => set((s) => ({ heatmap: { ...s.heatmap, visible: !s.heatmap.visible } })),
  showHeatmap: () => set((s) => ({ heatmap: { ...s.heatmap, visible: true } })),
  setOpacity: (opacity) => set((s) => ({ heatmap: { ...s.heatmap, opacity: clamp01(opacity) } })),
  setThreshold: (threshold) => set((s) => ({ heatmap: { ...s.heatmap, threshold: clamp01(threshold) } })),
  setColormap: (colormap) => set((s) => ({ heatmap: { ...s.heatmap, colormap } })),
  toggleContour: () => set((s) => ({ heatmap: { ...s.heatmap, contour: !s.heatmap.contour } })),
  setView: (v) =>
    set((s) => {
      const next = { ...s.view, ...v };
      return { view: { ...next, zoom: Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, next.zoom)) } };
    }),
  rotate: () => set((s) => ({ view: { ...s.view, rotation: ((s.view.rotation + 90) % 360) as ViewTransform['rotation'] } })),
  flipH: () => set((s) => ({ view: { ...s.view, flipH: !s.view.flipH } })),
  flipV: () => set((s) => ({ view: { ...s.view, flipV: !s.view.flipV } })),
  toggleInvert: () => set((s) => ({ userInvert: !s.userInvert })),
  resetView: () => set((s) => ({ window: s.initialWindow, view: IDENTITY_VIEW, userInvert: false })),
  setTool: (tool) => set({ tool, draft: null }),
  setDraft: (draft) => set({ draft }),
  commitDraft: () =>
    set((s) => {
      if (!s.draft || s.draft.points.length < POINTS_NEEDED[s.draft.kind]) return { draft: null };
      return { measurements: [...s.measurements, { ...s.draft, id: nextMeasurementId++ }], draft: null };
    }),
  removeLastMeasurement: () => set((s) => (s.draft ? { draft: null } : { measurements: s.measurements.slice(0, -1) })),
  clearMeasurements: () => set({ measurements: [], draft: null }),
  toggleOverlays: () => set((s) => ({ overlaysVisible: !s.overlaysVisible })),
  setLayout: (layout) => set({ layout }),
  cycleLayout: () => set((s) => ({ layout: LAYOUTS[(LAYOUTS.indexOf(s.layout) + 1) % LAYOUTS.length] ?? 'single' })),
  setHelpOpen: (helpOpen) => set({ helpOpen }),
  setTagsOpen: (tagsOpen) => set({ tagsOpen }),
}));
