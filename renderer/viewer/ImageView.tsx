// Runs in the renderer. The centre of the shell: a toolbar, the image canvas and its corner
// overlays. Drawing itself lives in the controller so a drag never waits on React.
import { useEffect, useRef } from 'react';
import { useFindings } from '../state/findings';
import { useStudy } from '../state/study';
import { useViewport } from '../state/viewport';
import { AnnotationLayer } from './annotation/AnnotationLayer';
import { rampCss } from './colormap';
import { attachViewer, type RendererChoice } from './controller';
import { attachWindowLevelTool } from './tools';

const formatValue = (v: number, width: number) => (width >= 20 ? Math.round(v).toString() : v.toFixed(2));

function Toolbar() {
  const hasImage = useStudy((s) => s.info !== null);
  const win = useViewport((s) => s.window);
  const initial = useViewport((s) => s.initialWindow);
  const heatmap = useViewport((s) => s.heatmap);
  const { toggleHeatmap, resetWindow, setOpacity, setThreshold } = useViewport.getState();
  const hasCam = useFindings((s) => s.cam !== null);
  const atInitial = win !== null && initial !== null && win.center === initial.center && win.width === initial.width;

  return (
    <div className="toolbar" role="toolbar" aria-label="Image tools">
      <button type="button" onClick={resetWindow} disabled={!hasImage || atInitial} title="Restore the file's window">
        Reset window
      </button>
      <span className="toolbar-sep" />
      <button
        type="button"
        data-testid="heatmap-toggle"
        aria-pressed={hasCam && heatmap.visible}
        className={hasCam && heatmap.visible ? 'toggle on' : 'toggle'}
        onClick={toggleHeatmap}
        disabled={!hasCam}
        title="Show or hide the heatmap (O)"
      >
        Heatmap <kbd>O</kbd>
      </button>
      <label className="slider">
        <span>Opacity</span>
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={heatmap.opacity}
          disabled={!hasCam}
          onChange={(e) => setOpacity(Number(e.currentTarget.value))}
          aria-label="Heatmap opacity"
        />
        <output>{Math.round(heatmap.opacity * 100)}%</output>
      </label>
      <label className="slider">
        <span>Threshold</span>
        <input
          type="range"
          min={0}
          max={0.95}
          step={0.05}
          value={heatmap.threshold}
          disabled={!hasCam}
          onChange={(e) => setThreshold(Number(e.currentTarget.value))}
          aria-label="Heatmap threshold: hide values below"
        />
        <output>{heatmap.threshold.toFixed(2)}</output>
      </label>
      <span className="ramp" style={{ background: rampCss() }} title="Heatmap colours: low (violet) to high (yellow)" />
    </div>
  );
}

function CornerOverlays() {
  const info = useStudy((s) => s.info);
  const win = useViewport((s) => s.window);
  const cam = useFindings((s) => s.cam);
  const heatmapVisible = useViewport((s) => s.heatmap.visible);
  const camName = useFindings((s) => s.result?.findings.find((f) => f.labelId === s.cam?.labelId)?.name ?? s.cam?.labelId);
  if (!info) return null;
  // The shader applies rescale and a window; a file's own lookup tables are the backend's to show.
  const fileLut = !!info.lookupTables && (info.lookupTables.modality || info.lookupTables.voi > 0);
  return (
    <>
      <div className="corner top-left">
        <div>{info.modality ?? info.format.toUpperCase()}</div>
        <div>
          {info.width} × {info.height}
          {info.frames > 1 ? ` · ${info.frames} frames` : ''}
        </div>
        <div>{info.photometric}</div>
      </div>
      {win && (
        <div className="corner bottom-left">
          {fileLut && <div className="warn">LUT in file not applied here</div>}
          <div data-testid="window-readout">
            W {formatValue(win.width, win.width)} · L {formatValue(win.center, win.width)}
            {info.voiLutFunction && info.voiLutFunction !== 'LINEAR' ? ` · ${info.voiLutFunction}` : ''}
          </div>
        </div>
      )}
      {cam && heatmapVisible && (
        <div className="corner top-right" data-testid="heatmap-label">
          Grad-CAM · {camName}
        </div>
      )}
      {info.spacing && (
        <div className="corner bottom-right" title={info.spacing.source}>
          Pixel {info.spacing.column.toFixed(3)} × {info.spacing.row.toFixed(3)} mm
        </div>
      )}
    </>
  );
}

export function ImageView({ renderer = 'auto' }: { renderer?: RendererChoice }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const opening = useStudy((s) => s.opening);
  const hasImage = useStudy((s) => s.info !== null);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const detachViewer = attachViewer(canvas, renderer);
    const detachTool = attachWindowLevelTool(canvas);
    return () => {
      detachTool();
      detachViewer();
    };
  }, [renderer]);

  return (
    <section className="viewer" aria-label="Image">
      <Toolbar />
      <div className="viewport">
        <canvas ref={canvasRef} data-testid="image-canvas" className="image-canvas" aria-label="Image view: drag to adjust window and level" />
        <AnnotationLayer />
        <CornerOverlays />
        {!hasImage && !opening && <div className="viewport-hint">Choose a sample on the left to begin.</div>}
        {opening && <div className="viewport-hint busy">Opening…</div>}
      </div>
    </section>
  );
}
