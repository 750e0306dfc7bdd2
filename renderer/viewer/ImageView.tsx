// Runs in the renderer. The centre of the shell: the toolbar, one or two image panes (side by side
// with linked zoom, pan and window, since both read the same viewport state), the corner overlays,
// the frame bar of a stack, and the help and tag overlays. Drawing lives in the controller so a
// drag never waits on React.
import { useEffect, useRef, type ReactNode } from 'react';
import { methodName, useFindings } from '../state/findings';
import { useStudy } from '../state/study';
import { MODALITY_PRESETS, useViewport, type Layout, type Tool } from '../state/viewport';
import { ACTIONS, attachImageHotkeys } from '../app/hotkeys';
import { CamMethodSelect } from '../panels/CamMethodSelect';
import { AnnotationLayer } from './annotation/AnnotationLayer';
import { COLORMAPS, rampCss } from './colormap';
import { attachViewer, type Pane, type RendererChoice } from './controller';
import { modalityUnit } from './measure';
import { MeasurementLayer, MeasurementList } from './MeasurementLayer';
import { TagBrowser } from './TagBrowser';
import { attachTools, readProbe, useProbe } from './tools';

const formatValue = (v: number, width: number) => (width >= 20 ? Math.round(v).toString() : v.toFixed(2));

const TOOLS: { tool: Tool; label: string; key: string }[] = [
  { tool: 'windowLevel', label: 'W/L', key: 'W' },
  { tool: 'pan', label: 'Pan', key: 'M' },
  { tool: 'zoom', label: 'Zoom', key: 'Z' },
  { tool: 'length', label: 'Length', key: 'L' },
  { tool: 'angle', label: 'Angle', key: 'N' },
  { tool: 'rectangle', label: 'Rect ROI', key: 'Q' },
  { tool: 'ellipse', label: 'Ellipse ROI', key: 'E' },
  { tool: 'ctr', label: 'CTR', key: 'T' },
];

const LAYOUTS: { layout: Layout; label: string }[] = [
  { layout: 'single', label: 'Single' },
  { layout: 'image-heatmap', label: 'Image | heatmap' },
  { layout: 'methods', label: 'Two CAM methods' },
];

function Btn({ onClick, title, disabled, pressed, testId, children }: { onClick(): void; title: string; disabled?: boolean; pressed?: boolean; testId?: string; children: ReactNode }) {
  return (
    <button
      type="button"
      onClick={onClick}
      title={title}
      disabled={disabled}
      aria-pressed={pressed}
      className={pressed ? 'toggle on' : pressed === false ? 'toggle' : undefined}
      data-testid={testId}
    >
      {children}
    </button>
  );
}

function WindowTools({ hasImage }: { hasImage: boolean }) {
  const win = useViewport((s) => s.window);
  const initial = useViewport((s) => s.initialWindow);
  const fileWindows = useViewport((s) => s.fileWindows);
  const userInvert = useViewport((s) => s.userInvert);
  const vp = useViewport.getState();
  const atInitial = win !== null && initial !== null && win.center === initial.center && win.width === initial.width;
  const presetValue = (() => {
    const f = fileWindows.findIndex((w) => w.center === win?.center && w.width === win?.width);
    if (f >= 0) return `f${f}`;
    const m = MODALITY_PRESETS.findIndex((p) => p.window.center === win?.center && p.window.width === win?.width);
    return m >= 0 ? `m${m}` : '';
  })();
  return (
    <div className="tool-group" role="group" aria-label="Window">
      <select
        aria-label="Window preset"
        data-testid="window-preset"
        disabled={!hasImage}
        value={presetValue}
        onChange={(e) => {
          const v = e.currentTarget.value;
          if (v.startsWith('f')) vp.setWindow(fileWindows[Number(v.slice(1))] ?? vp.window ?? { center: 0, width: 1 });
          else if (v.startsWith('m')) vp.applyPreset(Number(v.slice(1)) + 1);
        }}
      >
        <option value="" disabled>
          Custom
        </option>
        {fileWindows.map((w, i) => (
          <option key={`f${i}`} value={`f${i}`}>
            {i === 0 ? '1 · ' : ''}File {formatValue(w.width, w.width)}/{formatValue(w.center, w.width)}
          </option>
        ))}
        {MODALITY_PRESETS.map((p, i) => (
          <option key={p.name} value={`m${i}`}>
            {i + 2} · {p.name} {p.window.width}/{p.window.center}
          </option>
        ))}
      </select>
      <Btn onClick={vp.applyAutoWindow} title="Auto window from the histogram (A)" disabled={!hasImage} testId="auto-window">
        Auto
      </Btn>
      <Btn onClick={vp.resetWindow} title="Restore the file's window" disabled={!hasImage || atInitial}>
        Reset window
      </Btn>
      <Btn onClick={vp.toggleInvert} title="Invert (I)" disabled={!hasImage} pressed={userInvert} testId="invert">
        Invert
      </Btn>
    </div>
  );
}

function ViewTools({ hasImage }: { hasImage: boolean }) {
  const view = useViewport((s) => s.view);
  const tool = useViewport((s) => s.tool);
  const layout = useViewport((s) => s.layout);
  const overlays = useViewport((s) => s.overlaysVisible);
  const vp = useViewport.getState();
  const oneToOne = ACTIONS.find((a) => a.keys.includes('u'));
  return (
    <>
      <div className="tool-group" role="group" aria-label="Mouse tool">
        {TOOLS.map((t) => (
          <Btn key={t.tool} onClick={() => vp.setTool(t.tool)} title={`${t.label} (${t.key})`} pressed={tool === t.tool} disabled={!hasImage} testId={`tool-${t.tool}`}>
            {t.label}
          </Btn>
        ))}
      </div>
      <div className="tool-group" role="group" aria-label="View">
        <Btn onClick={vp.rotate} title="Rotate 90° clockwise (R)" disabled={!hasImage} testId="rotate">
          Rotate
        </Btn>
        <Btn onClick={vp.flipH} title="Flip horizontally (H)" disabled={!hasImage} pressed={view.flipH}>
          Flip H
        </Btn>
        <Btn onClick={vp.flipV} title="Flip vertically (V)" disabled={!hasImage} pressed={view.flipV}>
          Flip V
        </Btn>
        <Btn onClick={() => vp.setView({ zoom: 1, panX: 0, panY: 0 })} title="Fit to the window (F)" disabled={!hasImage} testId="fit">
          Fit
        </Btn>
        <Btn onClick={() => oneToOne?.run()} title="Actual pixels (U)" disabled={!hasImage} testId="one-to-one">
          1:1
        </Btn>
        <Btn onClick={vp.resetView} title="Reset window and view (0)" disabled={!hasImage} testId="reset-view">
          Reset view
        </Btn>
        <select
          aria-label="Layout"
          data-testid="layout"
          value={layout}
          onChange={(e) => {
            vp.setLayout(e.currentTarget.value as Layout);
            void useFindings.getState().refreshCompare();
          }}
        >
          {LAYOUTS.map((l) => (
            <option key={l.layout} value={l.layout}>
              {l.label}
            </option>
          ))}
        </select>
        <Btn onClick={vp.toggleOverlays} title="Corner overlays (X)" pressed={overlays} testId="overlays-toggle">
          Overlays
        </Btn>
        <Btn onClick={() => vp.setTagsOpen(!vp.tagsOpen)} title="DICOM tags (D)" disabled={!hasImage} testId="tags-open">
          Tags
        </Btn>
        <Btn onClick={() => vp.setHelpOpen(true)} title="Keyboard help (?)" testId="help-open">
          ?
        </Btn>
      </div>
    </>
  );
}

function HeatmapTools() {
  const heatmap = useViewport((s) => s.heatmap);
  const hasCam = useFindings((s) => s.cam !== null);
  const { toggleHeatmap, setOpacity, setThreshold, setColormap, toggleContour } = useViewport.getState();
  return (
    <div className="tool-group" role="group" aria-label="Heatmap">
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
          data-testid="heatmap-opacity"
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
      <select aria-label="Heatmap colours" data-testid="colormap" value={heatmap.colormap} onChange={(e) => setColormap(e.currentTarget.value as 'viridis' | 'jet')} disabled={!hasCam}>
        <option value="viridis">Viridis (colour-blind safe)</option>
        <option value="jet">Jet</option>
      </select>
      <Btn onClick={toggleContour} title="Contour lines instead of a filled map (K)" pressed={heatmap.contour} disabled={!hasCam} testId="contour">
        Contour
      </Btn>
      <span className="ramp" style={{ background: rampCss(COLORMAPS[heatmap.colormap]) }} title="Heatmap colours: low to high" />
    </div>
  );
}

function Toolbar() {
  const hasImage = useStudy((s) => s.info !== null);
  return (
    <div className="toolbar" role="toolbar" aria-label="Image tools">
      <WindowTools hasImage={hasImage} />
      <ViewTools hasImage={hasImage} />
      <HeatmapTools />
    </div>
  );
}

function FrameBar() {
  const frames = useStudy((s) => s.info?.frames ?? 0);
  const index = useStudy((s) => s.frameIndex);
  const cine = useStudy((s) => s.cine);
  const fps = useStudy((s) => s.cineFps);
  const { showFrame, stepFrame, toggleCine } = useStudy.getState();
  if (frames < 2) return null;
  return (
    <div className="frame-bar" role="group" aria-label="Frames">
      <button type="button" onClick={() => void stepFrame(-1)} title="Previous frame (↑)">
        ‹
      </button>
      <input
        type="range"
        min={0}
        max={frames - 1}
        value={index}
        onChange={(e) => void showFrame(Number(e.currentTarget.value))}
        aria-label="Frame"
        data-testid="frame-slider"
      />
      <button type="button" onClick={() => void stepFrame(1)} title="Next frame (↓)">
        ›
      </button>
      <button type="button" className={cine ? 'toggle on' : 'toggle'} aria-pressed={cine} onClick={toggleCine} title="Play or stop cine (C)" data-testid="cine">
        {cine ? 'Stop' : 'Cine'}
      </button>
      <input
        type="number"
        min={1}
        max={60}
        value={fps}
        aria-label="Cine frames per second"
        onChange={(e) => useStudy.setState({ cineFps: Math.min(60, Math.max(1, Number(e.currentTarget.value) || 1)) })}
      />
      <span className="muted">fps</span>
    </div>
  );
}

function Probe() {
  const point = useProbe((s) => s.probe);
  const modality = useStudy((s) => s.info?.modality);
  const slopeIntercept = useStudy((s) => (s.info ? s.info.rescaleSlope !== 1 || s.info.rescaleIntercept !== 0 : false));
  // Read again when the frame changes (the full frame replacing a reduced one).
  useStudy((s) => s.frame);
  const probe = point && readProbe(point);
  if (!probe) return null;
  const unit = modalityUnit(modality) ? ` ${modalityUnit(modality)}` : '';
  const value = (v: number) => (probe.reduced ? `≈${Number(v.toFixed(1))}` : String(Number(v.toFixed(3))));
  return (
    <div data-testid="probe" data-resolution={probe.reduced ? 'reduced' : 'full'} title={probe.reduced ? 'Read from the reduced preview; the full-resolution frame is loading' : undefined}>
      ({probe.x}, {probe.y}) stored {value(probe.stored)}
      {slopeIntercept || unit ? ` · ${value(probe.modality)}${unit}` : ''}
      {probe.reduced ? ' · preview' : ''}
    </div>
  );
}

function CornerOverlays({ pane }: { pane: Pane }) {
  const info = useStudy((s) => s.info);
  const frameIndex = useStudy((s) => s.frameIndex);
  const stack = useStudy((s) => s.stack);
  const win = useViewport((s) => s.window);
  const view = useViewport((s) => s.view);
  const userInvert = useViewport((s) => s.userInvert);
  const visible = useViewport((s) => s.overlaysVisible);
  const layout = useViewport((s) => s.layout);
  const heatmapVisible = useViewport((s) => s.heatmap.visible);
  const cam = useFindings((s) => (pane === 'secondary' && layout === 'methods' ? s.compareCam : pane === 'primary' && layout === 'image-heatmap' ? null : s.cam));
  const camName = useFindings((s) => s.result?.findings.find((f) => f.labelId === cam?.labelId)?.name ?? cam?.labelId);
  if (!info) return null;
  // The shader applies rescale and a window; a file's own lookup tables are the backend's to show.
  const fileLut = !!info.lookupTables && (info.lookupTables.modality || info.lookupTables.voi > 0);
  const heatLabel = cam && heatmapVisible && (
    <div className="corner top-right" data-testid={pane === 'primary' ? 'heatmap-label' : 'heatmap-label-2'}>
      {methodName(cam.method)} · {camName}
    </div>
  );
  if (!visible || pane === 'secondary') return <>{heatLabel}</>;
  const orientation = [view.rotation ? `${view.rotation}°` : '', view.flipH ? 'flip H' : '', view.flipV ? 'flip V' : '', userInvert ? 'inverted' : ''].filter(Boolean).join(' · ');
  return (
    <>
      <div className="corner top-left" data-testid="overlay-patient">
        {info.patient?.name && <div>{info.patient.name.replace(/\^/g, ' ')}</div>}
        {info.patient?.id && <div>ID {info.patient.id}</div>}
        {(info.studyDate || info.studyDescription) && <div>{[info.studyDate, info.studyDescription].filter(Boolean).join(' · ')}</div>}
        <div>
          {info.modality ?? info.format.toUpperCase()} · {info.width} × {info.height} · {info.photometric}
        </div>
      </div>
      {heatLabel}
      {win && (
        <div className="corner bottom-left">
          {fileLut && <div className="warn">LUT in file not applied here</div>}
          <div data-testid="window-readout">
            W {formatValue(win.width, win.width)} · L {formatValue(win.center, win.width)}
            {info.voiLutFunction && info.voiLutFunction !== 'LINEAR' ? ` · ${info.voiLutFunction}` : ''}
          </div>
          <div data-testid="zoom-readout">
            Zoom {Math.round(view.zoom * 100)}%
            {orientation ? ` · ${orientation}` : ''}
          </div>
          {stack && stack.instances.length > 1 && (
            <div data-testid="instance-readout">
              Image {stack.position + 1} / {stack.instances.length}
            </div>
          )}
          {info.frames > 1 && (
            <div data-testid="frame-readout">
              Frame {frameIndex + 1} / {info.frames}
            </div>
          )}
        </div>
      )}
      <div className="corner bottom-right">
        <Probe />
        <div title={info.spacing?.calibrationType ? `Calibration: ${info.spacing.calibrationType}` : undefined} data-testid="spacing-readout">
          {info.spacing
            ? `Pixel ${info.spacing.column.toFixed(3)} × ${info.spacing.row.toFixed(3)} mm · ${info.spacing.source}${info.spacing.magnificationFactor ? ` ÷ ${info.spacing.magnificationFactor}` : ''}`
            : 'Uncalibrated: lengths in pixels'}
        </div>
      </div>
    </>
  );
}

function ImagePane({ pane, renderer }: { pane: Pane; renderer: RendererChoice }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const detachViewer = attachViewer(canvas, renderer, pane);
    const detachTools = attachTools(canvas, { measure: pane === 'primary' });
    const detachKeys = attachImageHotkeys(canvas);
    return () => {
      detachKeys();
      detachTools();
      detachViewer();
    };
  }, [renderer, pane]);
  return (
    <div className="pane">
      <canvas
        ref={canvasRef}
        tabIndex={0}
        data-testid={pane === 'primary' ? 'image-canvas' : 'image-canvas-2'}
        className="image-canvas"
        aria-label="Image view: drag to adjust window and level; press ? for all keys"
      />
      {pane === 'primary' && <MeasurementLayer canvasRef={canvasRef} />}
      {pane === 'primary' && <AnnotationLayer />}
      <CornerOverlays pane={pane} />
    </div>
  );
}

function CompareChooser() {
  const layout = useViewport((s) => s.layout);
  const compareMethod = useFindings((s) => s.compareMethod);
  const hasResult = useFindings((s) => s.result !== null);
  if (layout !== 'methods') return null;
  return (
    <label className="compare-chooser">
      Right: method{' '}
      <CamMethodSelect
        label="Method shown on the right"
        testId="compare-method"
        value={compareMethod}
        disabled={!hasResult}
        onChange={(m) => void useFindings.getState().setCompareMethod(m)}
      />
    </label>
  );
}

export function HelpOverlay() {
  const open = useViewport((s) => s.helpOpen);
  const close = () => useViewport.getState().setHelpOpen(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (open) ref.current?.focus();
  }, [open]);
  if (!open) return null;
  const groups = [...new Set(ACTIONS.map((a) => a.group))];
  return (
    <div className="help-overlay" role="dialog" aria-modal="false" aria-label="Keyboard help" data-testid="help" tabIndex={-1} ref={ref}>
      <div className="help-head">
        <h2>Keys</h2>
        <button type="button" onClick={close} aria-label="Close help">
          Close <kbd>Esc</kbd>
        </button>
      </div>
      <p className="muted small">
        Mouse: left-drag runs the active tool (window/level by default), middle-drag pans, right-drag zooms, the wheel scrolls frames. Digits and Delete act on the image
        when it has the focus (click it or Tab to it).
      </p>
      <div className="help-groups">
        {groups.map((g) => (
          <section key={g}>
            <h3>{g}</h3>
            <dl>
              {ACTIONS.filter((a) => a.group === g).map((a) => (
                <div key={a.label}>
                  <dt>
                    {a.keys.map((k) => (
                      <kbd key={k}>{k}</kbd>
                    ))}
                  </dt>
                  <dd>{a.label}</dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
    </div>
  );
}

export function ImageView({ renderer = 'auto' }: { renderer?: RendererChoice }) {
  const opening = useStudy((s) => s.opening);
  const hasImage = useStudy((s) => s.info !== null);
  const layout = useViewport((s) => s.layout);
  const running = useFindings((s) => s.running);
  const loadingCam = useFindings((s) => s.loadingCam);

  return (
    <section className="viewer" aria-label="Image">
      <Toolbar />
      <div className={`viewport layout-${layout}`}>
        <ImagePane pane="primary" renderer={renderer} />
        {layout !== 'single' && <ImagePane pane="secondary" renderer={renderer} />}
        {!hasImage && !opening && <div className="viewport-hint">Choose a sample on the left to begin.</div>}
        {opening && <div className="viewport-hint busy">Opening…</div>}
        {hasImage && (running || loadingCam) && (
          <div className="busy-chip" role="status">
            {running ? 'Running the model…' : 'Computing the heatmap…'}
          </div>
        )}
        {/* Over the image, not below it: a list that appears must not resize the canvas. */}
        <MeasurementList />
        <TagBrowser />
        <HelpOverlay />
      </div>
      <CompareChooser />
      <FrameBar />
    </section>
  );
}
