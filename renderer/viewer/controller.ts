// Runs in the renderer. Binds the stores to an image renderer outside React: uploads when the
// frame or CAM changes, redraws (once per animation frame) when the window, overlay or size
// changes. Marks the canvas with what it shows so tests and tools can tell without guessing.
import { useFindings } from '../state/findings';
import { useSession } from '../state/session';
import { useStudy } from '../state/study';
import { useViewport } from '../state/viewport';
import { Canvas2DRenderer } from './canvas2d';
import { toViewImage } from './pixels';
import type { ImageRenderer } from './renderer';
import { isInverted, type DisplayParams } from './voi';
import { WebGLRenderer } from './webgl';

const NEUTRAL: DisplayParams = { slope: 1, intercept: 0, center: 0.5, width: 1, voiFunction: 'LINEAR', invert: false };

export type RendererChoice = 'auto' | 'canvas2d';

function createRenderer(canvas: HTMLCanvasElement, choice: RendererChoice): ImageRenderer | null {
  return (choice === 'auto' ? WebGLRenderer.create(canvas) : null) ?? Canvas2DRenderer.create(canvas);
}

export function attachViewer(canvas: HTMLCanvasElement, choice: RendererChoice = 'auto'): () => void {
  const renderer = createRenderer(canvas, choice);
  if (!renderer) {
    useSession.getState().inform('This window cannot draw images (no WebGL2 or Canvas 2D).');
    return () => undefined;
  }
  canvas.dataset.renderer = renderer.kind;
  let drawnImageId: string | null = null;
  let raf = 0;

  const draw = () => {
    raf = 0;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;

    const { info } = useStudy.getState();
    const { window: win, heatmap } = useViewport.getState();
    const { cam } = useFindings.getState();
    const display =
      info && win
        ? {
            slope: info.rescaleSlope,
            intercept: info.rescaleIntercept,
            center: win.center,
            width: win.width,
            voiFunction: info.voiLutFunction ?? 'LINEAR',
            invert: isInverted(info),
          }
        : NEUTRAL;
    const pixelAspect = info?.spacing ? info.spacing.row / info.spacing.column : 1;
    const drawn = renderer.draw({ display, overlay: heatmap, pixelAspect }) && display !== NEUTRAL;
    canvas.dataset.imageId = drawn && drawnImageId ? drawnImageId : '';
    canvas.dataset.heatmap = !drawn || !cam ? 'none' : heatmap.visible ? 'shown' : 'hidden';
  };
  const schedule = () => {
    raf ||= requestAnimationFrame(draw);
  };

  const upload = () => {
    const { info, frame } = useStudy.getState();
    drawnImageId = null;
    try {
      if (info && frame) {
        const image = toViewImage(info, frame);
        renderer.setImage(image);
        useViewport.getState().setValueRange({
          min: Math.min(image.min * info.rescaleSlope, image.max * info.rescaleSlope) + info.rescaleIntercept,
          max: Math.max(image.min * info.rescaleSlope, image.max * info.rescaleSlope) + info.rescaleIntercept,
        });
        drawnImageId = info.imageId;
      } else {
        renderer.setImage(null);
      }
    } catch (err) {
      renderer.setImage(null);
      useSession.getState().reportError(err);
    }
    schedule();
  };

  const unsubs = [
    useStudy.subscribe((s, prev) => {
      if (s.frame !== prev.frame || s.info !== prev.info) upload();
    }),
    useFindings.subscribe((s, prev) => {
      if (s.cam !== prev.cam) {
        renderer.setCam(s.cam);
        schedule();
      }
    }),
    useViewport.subscribe((s, prev) => {
      if (s.window !== prev.window || s.heatmap !== prev.heatmap) schedule();
    }),
  ];
  const resize = new ResizeObserver(schedule);
  resize.observe(canvas);

  upload();
  renderer.setCam(useFindings.getState().cam);

  return () => {
    for (const u of unsubs) u();
    resize.disconnect();
    if (raf) cancelAnimationFrame(raf);
    renderer.dispose();
  };
}
