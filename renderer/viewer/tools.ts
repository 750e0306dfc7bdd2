// Runs in the renderer. Mouse tools on the image: left-drag window/level (horizontal = width,
// vertical = center), as in common PACS viewers.
import { useViewport } from '../state/viewport';

/** A drag across this many CSS pixels sweeps the whole value range of the frame. */
const PIXELS_PER_RANGE = 512;

export function attachWindowLevelTool(el: HTMLElement): () => void {
  let start: { x: number; y: number; center: number; width: number; perPixel: number } | null = null;

  const down = (e: PointerEvent) => {
    const { window: win, valueRange } = useViewport.getState();
    if (e.button !== 0 || !win) return;
    const span = valueRange ? valueRange.max - valueRange.min : 256;
    start = { x: e.clientX, y: e.clientY, center: win.center, width: win.width, perPixel: Math.max(span, 1e-3) / PIXELS_PER_RANGE };
    el.setPointerCapture(e.pointerId);
    e.preventDefault();
  };
  const move = (e: PointerEvent) => {
    if (!start) return;
    const dx = e.clientX - start.x;
    const dy = e.clientY - start.y;
    useViewport.getState().setWindow({ center: start.center + dy * start.perPixel, width: start.width + dx * start.perPixel });
  };
  const up = (e: PointerEvent) => {
    if (!start) return;
    start = null;
    if (el.hasPointerCapture(e.pointerId)) el.releasePointerCapture(e.pointerId);
  };

  el.addEventListener('pointerdown', down);
  el.addEventListener('pointermove', move);
  el.addEventListener('pointerup', up);
  el.addEventListener('pointercancel', up);
  return () => {
    el.removeEventListener('pointerdown', down);
    el.removeEventListener('pointermove', move);
    el.removeEventListener('pointerup', up);
    el.removeEventListener('pointercancel', up);
  };
}
