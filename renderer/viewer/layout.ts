// Runs in the renderer. Where the image lands on the canvas: fitted, centred, keeping the physical
// aspect ratio (pixels need not be square when the file says so).

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** `pixelAspect` is a pixel's height over its width (row spacing / column spacing). */
export function fitRect(canvasW: number, canvasH: number, imageW: number, imageH: number, pixelAspect = 1): Rect {
  const physW = imageW;
  const physH = imageH * (pixelAspect > 0 && Number.isFinite(pixelAspect) ? pixelAspect : 1);
  const scale = Math.min(canvasW / physW, canvasH / physH);
  const width = Math.max(1, Math.round(physW * scale));
  const height = Math.max(1, Math.round(physH * scale));
  return { x: Math.floor((canvasW - width) / 2), y: Math.floor((canvasH - height) / 2), width, height };
}
