// Runs in the renderer. The reader's measurements drawn over the image in an SVG layer that lets
// the mouse through to the canvas (the tools own the mouse). Points are kept in image pixels and
// drawn through the same affine map as the image, so they follow zoom, pan, rotation and flips.
import { useEffect, useState, type ReactNode, type RefObject } from 'react';
import type { ImageInfo } from '../../preload/api';
import { useStudy } from '../state/study';
import { useViewport, type Measurement } from '../state/viewport';
import { cssAffine, currentViewImage } from './controller';
import { angleDeg, cardiothoracicRatio, distance, modalityUnit, roiStats, type Distance, type Pt } from './measure';
import { isReduced } from './pixels';
import { apply, type Affine } from './transform';

const fmtDistance = (d: Distance) => `${d.value.toFixed(d.unit === 'mm' ? 1 : 0)} ${d.unit}`;
const SOURCE_WORDS: Record<Distance['source'], string> = {
  PixelSpacing: 'Pixel Spacing',
  ImagerPixelSpacing: 'Imager Pixel Spacing (at the detector)',
  uncalibrated: 'uncalibrated',
};

/** What a measurement says, in the words shown beside it and in the list. */
export function describe(m: Measurement, info: ImageInfo): string {
  const [a, b, c, d] = m.points as unknown as [Pt, Pt, Pt?, Pt?];
  switch (m.kind) {
    case 'length': {
      const dist = distance(a, b, info.spacing);
      return `${fmtDistance(dist)} · ${SOURCE_WORDS[dist.source]}`;
    }
    case 'angle':
      return c ? `${angleDeg(a, b, c, info.spacing).toFixed(1)}°` : '…';
    case 'rectangle':
    case 'ellipse': {
      const image = currentViewImage();
      if (!image || image.kind !== 'grey') return 'no values';
      // Statistics of a reduced preview would be of averaged pixels (a smaller SD): wait for the real ones.
      if (isReduced(image)) return 'statistics when full resolution has loaded';
      const s = roiStats(m.kind, a, b, { ...image, slope: info.rescaleSlope, intercept: info.rescaleIntercept }, info.spacing);
      const unit = modalityUnit(info.modality) ? ` ${modalityUnit(info.modality)}` : '';
      return `mean ${s.mean.toFixed(1)}${unit} · SD ${s.sd.toFixed(1)} · area ${s.area.toFixed(s.areaUnit === 'mm²' ? 1 : 0)} ${s.areaUnit}`;
    }
    case 'ctr': {
      const cardiac = distance(a, b, info.spacing);
      if (!c || !d) return `cardiac ${fmtDistance(cardiac)} · now the thoracic width`;
      const thoracic = distance(c, d, info.spacing);
      return `CTR ${cardiothoracicRatio(cardiac, thoracic).toFixed(2)} (${fmtDistance(cardiac)} / ${fmtDistance(thoracic)})`;
    }
  }
}

function Shape({ m, at, info, draft }: { m: Measurement; at: (p: Pt) => [number, number]; info: ImageInfo; draft: boolean }) {
  const pts = m.points.map(at);
  const [a, b, c, d] = pts as [[number, number], [number, number], [number, number]?, [number, number]?];
  let body: ReactNode;
  switch (m.kind) {
    case 'length':
      body = <line x1={a[0]} y1={a[1]} x2={b[0]} y2={b[1]} />;
      break;
    case 'angle':
      body = <polyline points={pts.map((p) => p.join(',')).join(' ')} fill="none" />;
      break;
    case 'rectangle':
    case 'ellipse': {
      // The two corners in image pixels, mapped; with rotation the shape stays axis-aligned on the image.
      const [x0, y0] = m.points[0] as Pt;
      const [x1, y1] = m.points[1] as Pt;
      const corners = ([[x0, y0], [x1, y0], [x1, y1], [x0, y1]] as Pt[]).map(at);
      if (m.kind === 'rectangle') {
        body = <polygon points={corners.map((p) => p.join(',')).join(' ')} fill="none" />;
      } else {
        const steps = 48;
        const ring = Array.from({ length: steps }, (_, i) => {
          const t = (i / steps) * 2 * Math.PI;
          return at([(x0 + x1) / 2 + ((x1 - x0) / 2) * Math.cos(t), (y0 + y1) / 2 + ((y1 - y0) / 2) * Math.sin(t)]).join(',');
        });
        body = <polygon points={ring.join(' ')} fill="none" />;
      }
      break;
    }
    case 'ctr':
      body = (
        <>
          <line x1={a[0]} y1={a[1]} x2={b[0]} y2={b[1]} className="ctr-cardiac" />
          {c && d && <line x1={c[0]} y1={c[1]} x2={d[0]} y2={d[1]} className="ctr-thoracic" />}
        </>
      );
      break;
  }
  const labelAt = pts.reduce((best, p) => (p[1] > best[1] ? p : best), a);
  return (
    <g className={draft ? 'measurement draft' : 'measurement'} data-testid={draft ? 'measurement-draft' : `measurement-${m.id}`} data-kind={m.kind}>
      {body}
      {pts.map((p, i) => (
        <circle key={i} cx={p[0]} cy={p[1]} r={3} />
      ))}
      <text x={labelAt[0] + 6} y={labelAt[1] + 16}>
        {describe(m, info)}
      </text>
    </g>
  );
}

export function MeasurementLayer({ canvasRef }: { canvasRef: RefObject<HTMLCanvasElement | null> }) {
  const info = useStudy((s) => s.info);
  // ROI statistics follow the frame on screen.
  useStudy((s) => s.frame);
  const view = useViewport((s) => s.view);
  const measurements = useViewport((s) => s.measurements);
  const draft = useViewport((s) => s.draft);
  const [size, setSize] = useState({ w: 0, h: 0 });

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const observe = new ResizeObserver(() => setSize({ w: canvas.clientWidth, h: canvas.clientHeight }));
    observe.observe(canvas);
    return () => observe.disconnect();
  }, [canvasRef]);

  const canvas = canvasRef.current;
  if (!info || !canvas || size.w === 0 || (measurements.length === 0 && !draft)) return null;
  const m: Affine = cssAffine(canvas, info, view);
  const at = (p: Pt) => apply(m, p[0], p[1]);
  return (
    <svg className="measurement-layer" width={size.w} height={size.h} aria-hidden="true">
      {measurements.map((x) => (
        <Shape key={x.id} m={x} at={at} info={info} draft={false} />
      ))}
      {draft && <Shape m={draft} at={at} info={info} draft />}
    </svg>
  );
}

/** The measurements as text, for the side panel and for readers who do not see the overlay. */
export function MeasurementList() {
  const info = useStudy((s) => s.info);
  useStudy((s) => s.frame);
  const measurements = useViewport((s) => s.measurements);
  const { clearMeasurements } = useViewport.getState();
  if (!info || measurements.length === 0) return null;
  return (
    <section className="measurements" aria-label="Measurements">
      <h2>Measurements</h2>
      <ol data-testid="measurement-list">
        {measurements.map((m) => (
          <li key={m.id} data-testid={`measurement-text-${m.id}`}>
            <span className="muted">{m.kind}</span> {describe(m, info)}
          </li>
        ))}
      </ol>
      <button type="button" onClick={clearMeasurements}>
        Clear measurements
      </button>
    </section>
  );
}
