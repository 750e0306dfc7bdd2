// Runs in the renderer. Binds the stores to an image renderer outside React: uploads when the
// frame changes, redraws (once per animation frame) when the window, view, overlay or size
// changes. Marks the canvas with what it shows so tests and tools can tell without guessing.
// A reduced frame (progressive display) is swapped for the full one in place: same window, view
// and drawing buffer until the next draw, so the swap shows no blank frame.
import type { CamMap, ImageInfo } from '../../preload/api';
import { useFindings } from '../state/findings';
import { useSession } from '../state/session';
import { reportViewSize, useStudy } from '../state/study';
import { useViewport, type DisplayWindow } from '../state/viewport';
import { Canvas2DRenderer } from './canvas2d';
import { isReduced, toViewImage, type ViewImage } from './pixels';
import { needsFull } from './progressive';
import type { ImageRenderer } from './renderer';
import { displayScale, viewAffine, type Affine, type ViewGeometry, type ViewTransform } from './transform';
import { isInverted, type DisplayParams } from './voi';
import { WebGLRenderer } from './webgl';

const NEUTRAL: DisplayParams = { slope: 1, intercept: 0, center: 0.5, width: 1, voiFunction: 'LINEAR', invert: false };

export type RendererChoice = 'auto' | 'canvas2d';

/** The left (or only) view, and the right one of the side-by-side layouts. */
export type Pane = 'primary' | 'secondary';

function createRenderer(canvas: HTMLCanvasElement, choice: RendererChoice): ImageRenderer | null {
  return (choice === 'auto' ? WebGLRenderer.create(canvas) : null) ?? Canvas2DRenderer.create(canvas);
}

/** The frame on screen, as the probe and the ROI statistics read it. */
let shownImage: ViewImage | null = null;
export const currentViewImage = (): ViewImage | null => shownImage;

/** The view's geometry for a canvas of this size (CSS pixels with dpr 1, device pixels otherwise). */
export function geometryFor(info: Pick<ImageInfo, 'width' | 'height' | 'spacing'>, width: number, height: number, dpr: number): ViewGeometry {
  return {
    canvasWidth: width,
    canvasHeight: height,
    imageWidth: info.width,
    imageHeight: info.height,
    pixelAspect: info.spacing ? info.spacing.row / info.spacing.column : 1,
    dpr,
  };
}

/** Image pixels → CSS pixels of the canvas, for tools and overlays drawn in the DOM. */
export function cssAffine(canvas: HTMLElement, info: Pick<ImageInfo, 'width' | 'height' | 'spacing'>, view: ViewTransform): Affine {
  return viewAffine(geometryFor(info, canvas.clientWidth, canvas.clientHeight, 1), view);
}

/** The window covering the 1st to 99th percentile of modality values (sampled on large frames). */
export function autoWindowOf(image: ViewImage, slope: number, intercept: number): DisplayWindow | null {
  if (image.kind !== 'grey' || image.values.length === 0) return null;
  const step = Math.max(1, Math.floor(image.values.length / 262_144));
  const sample = new Float32Array(Math.ceil(image.values.length / step));
  for (let i = 0, j = 0; i < image.values.length; i += step, j++) sample[j] = (image.values[i] as number) * slope + intercept;
  sample.sort();
  const lo = sample[Math.floor(sample.length * 0.01)] as number;
  const hi = sample[Math.min(sample.length - 1, Math.floor(sample.length * 0.99))] as number;
  return { center: (lo + hi) / 2, width: Math.max(hi - lo, 1) };
}

export function attachViewer(canvas: HTMLCanvasElement, choice: RendererChoice = 'auto', pane: Pane = 'primary'): () => void {
  const renderer = createRenderer(canvas, choice);
  if (!renderer) {
    useSession.getState().inform('This window cannot draw images (no WebGL2 or Canvas 2D).');
    return () => undefined;
  }
  canvas.dataset.renderer = renderer.kind;
  let drawnImageId: string | null = null;
  let shown: ViewImage | null = null;
  let uploadedCam: CamMap | null = null;
  let raf = 0;

  /** What this pane overlays: the chosen CAM, the comparison method's, or nothing. */
  const camForPane = (): CamMap | null => {
    const { layout } = useViewport.getState();
    const { cam, compareCam } = useFindings.getState();
    if (pane === 'primary') return layout === 'image-heatmap' ? null : cam;
    return layout === 'methods' ? compareCam : cam;
  };

  const draw = () => {
    raf = 0;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    if (pane === 'primary') reportViewSize({ width: w, height: h });

    const { info } = useStudy.getState();
    const { window: win, heatmap, view, userInvert } = useViewport.getState();
    const cam = camForPane();
    if (cam !== uploadedCam) {
      renderer.setCam(cam);
      uploadedCam = cam;
    }
    const display =
      info && win
        ? {
            slope: info.rescaleSlope,
            intercept: info.rescaleIntercept,
            center: win.center,
            width: win.width,
            voiFunction: info.voiLutFunction ?? 'LINEAR',
            invert: isInverted(info) !== userInvert,
          }
        : NEUTRAL;
    const transform = viewAffine(geometryFor(info ?? { width: 1, height: 1 }, w, h, dpr), view);
    const drawn = renderer.draw({ display, overlay: heatmap, transform }) && display !== NEUTRAL;
    canvas.dataset.imageId = drawn && drawnImageId ? drawnImageId : '';
    canvas.dataset.heatmap = !drawn || !cam ? 'none' : heatmap.visible ? 'shown' : 'hidden';
    canvas.dataset.frame = String(useStudy.getState().frameIndex);
    canvas.dataset.scale = (displayScale(transform) / dpr).toFixed(4);
    canvas.dataset.resolution = drawn && shown ? (isReduced(shown) ? 'reduced' : 'full') : '';
    canvas.dataset.texture = drawn && shown ? `${shown.width}x${shown.height}` : '';
    // Zoomed past what the reduced frame holds: make sure the full one is coming (it usually is).
    if (drawn && shown && info && needsFull(displayScale(transform), shown, { width: shown.fullWidth, height: shown.fullHeight })) {
      void useStudy.getState().ensureFullFrame();
    }
  };
  const schedule = () => {
    raf ||= requestAnimationFrame(draw);
  };

  const upload = () => {
    const { info, frame } = useStudy.getState();
    drawnImageId = null;
    shown = null;
    try {
      if (info && frame) {
        const image = toViewImage(info, frame);
        renderer.setImage(image);
        shown = image;
        if (pane === 'primary') {
          shownImage = image;
          const viewport = useViewport.getState();
          viewport.setValueRange({
            min: Math.min(image.min * info.rescaleSlope, image.max * info.rescaleSlope) + info.rescaleIntercept,
            max: Math.max(image.min * info.rescaleSlope, image.max * info.rescaleSlope) + info.rescaleIntercept,
          });
          viewport.setAutoWindow(autoWindowOf(image, info.rescaleSlope, info.rescaleIntercept));
        }
        drawnImageId = info.imageId;
      } else {
        renderer.setImage(null);
        if (pane === 'primary') shownImage = null;
      }
    } catch (err) {
      shown = null;
      renderer.setImage(null);
      if (pane === 'primary') shownImage = null;
      useSession.getState().reportError(err);
    }
    schedule();
  };

  const unsubs = [
    useStudy.subscribe((s, prev) => {
      if (s.frame !== prev.frame || s.info !== prev.info) upload();
    }),
    useFindings.subscribe((s, prev) => {
      if (s.cam !== prev.cam || s.compareCam !== prev.compareCam) schedule();
    }),
    useViewport.subscribe((s, prev) => {
      if (s.window !== prev.window || s.heatmap !== prev.heatmap || s.view !== prev.view || s.userInvert !== prev.userInvert || s.layout !== prev.layout) schedule();
    }),
  ];
  const resize = new ResizeObserver(schedule);
  resize.observe(canvas);

  upload();

  return () => {
    for (const u of unsubs) u();
    resize.disconnect();
    if (raf) cancelAnimationFrame(raf);
    renderer.dispose();
    if (pane === 'primary') shownImage = null;
  };
}
