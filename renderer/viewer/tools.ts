// Runs in the renderer. Mouse on the image, as in OHIF: left-drag runs the active tool (window/level
// by default: horizontal = width, vertical = centre), middle-drag pans, right-drag zooms, the wheel
// scrolls frames (and the files of a series). Measurement tools draw in image pixels. Hovering
// probes the pixel under the mouse.
import { create } from 'zustand';
import { useStudy } from '../state/study';
import { MAX_ZOOM, MIN_ZOOM, POINTS_NEEDED, useViewport, type MeasurementKind } from '../state/viewport';
import { cssAffine, currentViewImage } from './controller';
import { isReduced } from './pixels';
import { texelOf } from './progressive';
import { apply, invert } from './transform';

/** A drag across this many CSS pixels sweeps the whole value range of the frame. */
const PIXELS_PER_RANGE = 512;
/** Dragging this many CSS pixels up doubles the zoom. */
const PIXELS_PER_DOUBLING = 150;
/** A drag shorter than this (CSS pixels) is a click, not a measurement. */
const MIN_DRAG_PX = 3;

/** A full-image pixel under the mouse. */
export interface ProbePoint {
  x: number;
  y: number;
}

export interface ProbeReading extends ProbePoint {
  stored: number;
  modality: number;
  /** Read from a reduced frame (an average over the pixels it stands for) until the full one arrives. */
  reduced: boolean;
}

/**
 * The pixel under the mouse; kept apart from the viewport so hovering never redraws the image. Only
 * the point is kept: the value is read from the frame on screen when shown, so a swap to the full
 * frame updates it without a mouse move.
 */
export const useProbe = create<{ probe: ProbePoint | null }>()(() => ({ probe: null }));

/** The value at a full-image pixel of the frame on screen (reduced or full). */
export function readProbe(point: ProbePoint): ProbeReading | null {
  const image = currentViewImage();
  const { info } = useStudy.getState();
  if (!image || !info || image.kind !== 'grey') return null;
  const texel = texelOf(point.x, point.y, image, { width: image.fullWidth, height: image.fullHeight });
  if (!texel) return null;
  const stored = image.values[texel[1] * image.width + texel[0]] as number;
  return { ...point, stored, modality: stored * info.rescaleSlope + info.rescaleIntercept, reduced: isReduced(image) };
}

type Drag =
  | { kind: 'windowLevel'; x: number; y: number; center: number; width: number; perPixel: number }
  | { kind: 'pan'; x: number; y: number; panX: number; panY: number }
  | { kind: 'zoom'; x: number; y: number; zoom: number; panX: number; panY: number }
  | { kind: 'measure'; x: number; y: number };

function toImage(el: HTMLElement, clientX: number, clientY: number): [number, number] | null {
  const { info } = useStudy.getState();
  if (!info) return null;
  const r = el.getBoundingClientRect();
  return apply(invert(cssAffine(el, info, useViewport.getState().view)), clientX - r.left, clientY - r.top);
}

function probeAt(point: [number, number] | null): ProbePoint | null {
  const { info } = useStudy.getState();
  if (!point || !info) return null;
  const x = Math.floor(point[0]);
  const y = Math.floor(point[1]);
  return x < 0 || y < 0 || x >= info.width || y >= info.height ? null : { x, y };
}

export function attachTools(el: HTMLElement, opts: { measure: boolean }): () => void {
  let drag: Drag | null = null;

  const down = (e: PointerEvent) => {
    const vp = useViewport.getState();
    if (!useStudy.getState().info) return;
    el.focus({ preventScroll: true });
    const tool = e.button === 1 ? 'pan' : e.button === 2 ? 'zoom' : e.button === 0 ? vp.tool : null;
    if (!tool) return;
    const { view } = vp;
    if (tool === 'windowLevel') {
      if (!vp.window) return;
      const span = vp.valueRange ? vp.valueRange.max - vp.valueRange.min : 256;
      drag = { kind: 'windowLevel', x: e.clientX, y: e.clientY, center: vp.window.center, width: vp.window.width, perPixel: Math.max(span, 1e-3) / PIXELS_PER_RANGE };
    } else if (tool === 'pan') {
      drag = { kind: 'pan', x: e.clientX, y: e.clientY, panX: view.panX, panY: view.panY };
    } else if (tool === 'zoom') {
      drag = { kind: 'zoom', x: e.clientX, y: e.clientY, zoom: view.zoom, panX: view.panX, panY: view.panY };
    } else {
      if (!opts.measure) return;
      const p = toImage(el, e.clientX, e.clientY);
      if (!p) return;
      const kind: MeasurementKind = tool;
      const draft = vp.draft?.kind === kind ? vp.draft : null;
      // A new shape starts with its first drag; angle and CTR continue with their second.
      const points = draft ? [...draft.points, p, ...(kind === 'ctr' ? [p] : [])] : [p, p];
      vp.setDraft({ id: 0, kind, points: points as [number, number][] });
      drag = { kind: 'measure', x: e.clientX, y: e.clientY };
    }
    el.setPointerCapture(e.pointerId);
    e.preventDefault();
  };

  const move = (e: PointerEvent) => {
    const vp = useViewport.getState();
    if (!drag) {
      useProbe.setState({ probe: probeAt(toImage(el, e.clientX, e.clientY)) });
      return;
    }
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    switch (drag.kind) {
      case 'windowLevel':
        vp.setWindow({ center: drag.center + dy * drag.perPixel, width: drag.width + dx * drag.perPixel });
        break;
      case 'pan':
        vp.setView({ panX: drag.panX + dx, panY: drag.panY + dy });
        break;
      case 'zoom': {
        const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, drag.zoom * 2 ** (-dy / PIXELS_PER_DOUBLING)));
        // Zooms about the canvas centre: the image point there stays put.
        const k = zoom / drag.zoom;
        vp.setView({ zoom, panX: drag.panX * k, panY: drag.panY * k });
        break;
      }
      case 'measure': {
        const p = toImage(el, e.clientX, e.clientY);
        if (!p || !vp.draft) break;
        vp.setDraft({ ...vp.draft, points: [...vp.draft.points.slice(0, -1), p] });
        useProbe.setState({ probe: probeAt(p) });
        break;
      }
    }
  };

  const up = (e: PointerEvent) => {
    if (!drag) return;
    const ended = drag;
    drag = null;
    if (el.hasPointerCapture(e.pointerId)) el.releasePointerCapture(e.pointerId);
    if (ended.kind !== 'measure') return;
    const vp = useViewport.getState();
    const draft = vp.draft;
    if (!draft) return;
    const moved = Math.hypot(e.clientX - ended.x, e.clientY - ended.y) >= MIN_DRAG_PX;
    // The first drag of a shape must be a drag; the angle's third point may be a click.
    if (!moved && draft.points.length <= 2) {
      vp.setDraft(null);
      return;
    }
    if (draft.points.length >= POINTS_NEEDED[draft.kind]) vp.commitDraft();
  };

  const wheel = (e: WheelEvent) => {
    if (!useStudy.getState().canStep() || e.deltaY === 0) return;
    e.preventDefault();
    void useStudy.getState().stepFrame(e.deltaY > 0 ? 1 : -1);
  };
  const leave = () => useProbe.setState({ probe: null });
  const menu = (e: Event) => e.preventDefault();

  el.addEventListener('pointerdown', down);
  el.addEventListener('pointermove', move);
  el.addEventListener('pointerup', up);
  el.addEventListener('pointercancel', up);
  el.addEventListener('pointerleave', leave);
  el.addEventListener('wheel', wheel, { passive: false });
  el.addEventListener('contextmenu', menu);
  return () => {
    el.removeEventListener('pointerdown', down);
    el.removeEventListener('pointermove', move);
    el.removeEventListener('pointerup', up);
    el.removeEventListener('pointercancel', up);
    el.removeEventListener('pointerleave', leave);
    el.removeEventListener('wheel', wheel);
    el.removeEventListener('contextmenu', menu);
  };
}
