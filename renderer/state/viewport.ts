// Runs in the renderer. How the open image is displayed: the VOI window and the heatmap overlay
// settings. Changing any of these is a uniform change in the viewer, never a re-upload.
import { create } from 'zustand';
import type { ImageInfo, VoiWindow } from '../../preload/api';

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
}

interface ViewportState {
  window: DisplayWindow | null;
  /** The file's first window, restored by "Reset window". */
  initialWindow: DisplayWindow | null;
  heatmap: HeatmapSettings;
  /** Modality values the open frame spans; scales how far a drag moves the window. */
  valueRange: { min: number; max: number } | null;
  resetFor(info: ImageInfo): void;
  setWindow(window: DisplayWindow): void;
  setValueRange(range: { min: number; max: number } | null): void;
  resetWindow(): void;
  toggleHeatmap(): void;
  showHeatmap(): void;
  setOpacity(opacity: number): void;
  setThreshold(threshold: number): void;
}

/**
 * The contract wants a positive width; LINEAR treats any width up to 1 as a threshold, while
 * LINEAR_EXACT and SIGMOID (and float data) use widths below 1.
 */
export const MIN_WINDOW_WIDTH = 1e-6;

const fromVoi = (w: VoiWindow): DisplayWindow => ({ center: w.center, width: Math.max(MIN_WINDOW_WIDTH, w.width) });
const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

export const useViewport = create<ViewportState>()((set) => ({
  window: null,
  initialWindow: null,
  heatmap: { visible: true, opacity: 0.4, threshold: 0.3 },
  valueRange: null,
  resetFor: (info) => {
    const first = info.windows[0];
    const w = first ? fromVoi(first) : null;
    set({ window: w, initialWindow: w, valueRange: null });
  },
  setValueRange: (valueRange) => set({ valueRange }),
  setWindow: (w) => set({ window: { center: w.center, width: Math.max(MIN_WINDOW_WIDTH, w.width) } }),
  resetWindow: () => set((s) => ({ window: s.initialWindow })),
  toggleHeatmap: () => set((s) => ({ heatmap: { ...s.heatmap, visible: !s.heatmap.visible } })),
  showHeatmap: () => set((s) => ({ heatmap: { ...s.heatmap, visible: true } })),
  setOpacity: (opacity) => set((s) => ({ heatmap: { ...s.heatmap, opacity: clamp01(opacity) } })),
  setThreshold: (threshold) => set((s) => ({ heatmap: { ...s.heatmap, threshold: clamp01(threshold) } })),
}));
