// Runs in the renderer. Every viewer action with its keys, in one table that the key handler and
// the help overlay (?) both read, so the help cannot drift from what the keys do. Keys are ignored
// while typing in a field. Digits and Delete act on the image only while it has the focus: the
// review panel uses them for labels and regions everywhere else.
import { useFindings } from '../state/findings';
import { useStudy } from '../state/study';
import { useViewport, type Tool } from '../state/viewport';
import { oneToOneZoom } from '../viewer/transform';
import { geometryFor } from '../viewer/controller';

export interface Action {
  keys: string[];
  /** Shown in the help overlay. */
  label: string;
  group: 'Window' | 'View' | 'Heatmap' | 'Tools' | 'Stack' | 'Panels';
  /** 'image': only while the image has the keyboard focus. */
  scope: 'global' | 'image';
  run(): void;
}

const vp = () => useViewport.getState();
const tool = (t: Tool) => () => vp().setTool(t);

function oneToOne(): void {
  const { info } = useStudy.getState();
  const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="image-canvas"]');
  if (!info || !canvas) return;
  const dpr = window.devicePixelRatio || 1;
  const g = geometryFor(info, canvas.clientWidth * dpr, canvas.clientHeight * dpr, dpr);
  vp().setView({ zoom: oneToOneZoom(g, vp().view.rotation), panX: 0, panY: 0 });
}

export const ACTIONS: readonly Action[] = [
  { keys: ['1'], label: "The file's window (again: its next window)", group: 'Window', scope: 'image', run: () => vp().applyPreset(0) },
  { keys: ['2'], label: 'Soft tissue 400/40', group: 'Window', scope: 'image', run: () => vp().applyPreset(1) },
  { keys: ['3'], label: 'Lung 1500/−600', group: 'Window', scope: 'image', run: () => vp().applyPreset(2) },
  { keys: ['4'], label: 'Bone 2500/480', group: 'Window', scope: 'image', run: () => vp().applyPreset(3) },
  { keys: ['5'], label: 'Brain 80/40', group: 'Window', scope: 'image', run: () => vp().applyPreset(4) },
  { keys: ['a'], label: 'Auto window (1st–99th percentile)', group: 'Window', scope: 'global', run: () => vp().applyAutoWindow() },
  { keys: ['i'], label: 'Invert', group: 'View', scope: 'global', run: () => vp().toggleInvert() },
  { keys: ['r'], label: 'Rotate 90° clockwise', group: 'View', scope: 'global', run: () => vp().rotate() },
  { keys: ['h'], label: 'Flip horizontally', group: 'View', scope: 'global', run: () => vp().flipH() },
  { keys: ['v'], label: 'Flip vertically', group: 'View', scope: 'global', run: () => vp().flipV() },
  { keys: ['f'], label: 'Fit to the window', group: 'View', scope: 'global', run: () => vp().setView({ zoom: 1, panX: 0, panY: 0 }) },
  { keys: ['u'], label: 'Actual pixels (1:1)', group: 'View', scope: 'global', run: oneToOne },
  { keys: ['0'], label: 'Reset window and view', group: 'View', scope: 'global', run: () => vp().resetView() },
  { keys: ['+', '='], label: 'Zoom in', group: 'View', scope: 'global', run: () => vp().setView({ zoom: vp().view.zoom * 1.25 }) },
  { keys: ['-'], label: 'Zoom out', group: 'View', scope: 'global', run: () => vp().setView({ zoom: vp().view.zoom / 1.25 }) },
  { keys: ['x'], label: 'Show or hide the corner overlays', group: 'View', scope: 'global', run: () => vp().toggleOverlays() },
  { keys: ['s'], label: 'Layout: single · image | heatmap · two CAM methods', group: 'View', scope: 'global', run: () => {
      vp().cycleLayout();
      void useFindings.getState().refreshCompare();
    } },
  { keys: ['o'], label: 'Show or hide the heatmap', group: 'Heatmap', scope: 'global', run: () => vp().toggleHeatmap() },
  { keys: ['j'], label: 'Colormap: viridis (colour-blind safe) or jet', group: 'Heatmap', scope: 'global', run: () => vp().setColormap(vp().heatmap.colormap === 'viridis' ? 'jet' : 'viridis') },
  { keys: ['k'], label: 'Contour lines or filled heatmap', group: 'Heatmap', scope: 'global', run: () => vp().toggleContour() },
  { keys: ['['], label: 'Heatmap opacity down', group: 'Heatmap', scope: 'global', run: () => vp().setOpacity(vp().heatmap.opacity - 0.1) },
  { keys: [']'], label: 'Heatmap opacity up', group: 'Heatmap', scope: 'global', run: () => vp().setOpacity(vp().heatmap.opacity + 0.1) },
  { keys: [','], label: 'Heatmap threshold down', group: 'Heatmap', scope: 'global', run: () => vp().setThreshold(vp().heatmap.threshold - 0.05) },
  { keys: ['.'], label: 'Heatmap threshold up', group: 'Heatmap', scope: 'global', run: () => vp().setThreshold(vp().heatmap.threshold + 0.05) },
  { keys: ['w'], label: 'Tool: window/level (left drag)', group: 'Tools', scope: 'global', run: tool('windowLevel') },
  { keys: ['m'], label: 'Tool: pan (also middle drag)', group: 'Tools', scope: 'global', run: tool('pan') },
  { keys: ['z'], label: 'Tool: zoom (also right drag)', group: 'Tools', scope: 'global', run: tool('zoom') },
  { keys: ['l'], label: 'Tool: length', group: 'Tools', scope: 'global', run: tool('length') },
  { keys: ['n'], label: 'Tool: angle (drag one arm, then click the other end)', group: 'Tools', scope: 'global', run: tool('angle') },
  { keys: ['q'], label: 'Tool: rectangle ROI', group: 'Tools', scope: 'global', run: tool('rectangle') },
  { keys: ['e'], label: 'Tool: ellipse ROI', group: 'Tools', scope: 'global', run: tool('ellipse') },
  { keys: ['t'], label: 'Tool: cardiothoracic ratio (cardiac width, then thoracic width)', group: 'Tools', scope: 'global', run: tool('ctr') },
  { keys: ['Delete', 'Backspace'], label: 'Remove the last measurement', group: 'Tools', scope: 'image', run: () => vp().removeLastMeasurement() },
  { keys: ['ArrowDown', 'PageDown'], label: 'Next frame (also the wheel)', group: 'Stack', scope: 'global', run: () => void useStudy.getState().stepFrame(1) },
  { keys: ['ArrowUp', 'PageUp'], label: 'Previous frame', group: 'Stack', scope: 'global', run: () => void useStudy.getState().stepFrame(-1) },
  { keys: ['c'], label: 'Play or stop cine', group: 'Stack', scope: 'global', run: () => useStudy.getState().toggleCine() },
  { keys: ['d'], label: 'DICOM tags', group: 'Panels', scope: 'global', run: () => vp().setTagsOpen(!vp().tagsOpen) },
  { keys: ['?'], label: 'This help', group: 'Panels', scope: 'global', run: () => vp().setHelpOpen(!vp().helpOpen) },
  { keys: ['Escape'], label: 'Close help and tags; drop an unfinished measurement', group: 'Panels', scope: 'global', run: () => {
      vp().setHelpOpen(false);
      vp().setTagsOpen(false);
      vp().setDraft(null);
    } },
];

/** Inputs that take no text (a slider, a checkbox) leave the keys to the viewer. */
const KEYLESS_INPUTS = new Set(['range', 'checkbox', 'radio', 'button', 'submit', 'reset']);

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable ||
      (target instanceof HTMLInputElement && !KEYLESS_INPUTS.has(target.type)) ||
      target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement)
  );
}

const find = (key: string, scope: Action['scope']) =>
  ACTIONS.find((a) => a.scope === scope && a.keys.includes(key.length === 1 ? key.toLowerCase() : key)) ??
  ACTIONS.find((a) => a.scope === scope && a.keys.includes(key));

/** Window-wide keys. */
export function attachHotkeys(target: Window = window): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
    const action = find(e.key, 'global');
    if (!action) return;
    e.preventDefault();
    action.run();
  };
  target.addEventListener('keydown', onKey);
  return () => target.removeEventListener('keydown', onKey);
}

/** Keys that act on the image while it has the focus; they stop there so the review keys do not also fire. */
export function attachImageHotkeys(el: HTMLElement): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const action = find(e.key, 'image');
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    action.run();
  };
  el.addEventListener('keydown', onKey);
  return () => el.removeEventListener('keydown', onKey);
}
