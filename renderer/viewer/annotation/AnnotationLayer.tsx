// Runs in the renderer. The reader's regions drawn over the image, in an SVG layer above the
// canvas: boxes are drawn by dragging with the box tool, polygons corner by corner (double-click
// or the first corner closes them), points by a click; any region is selected by a click, moved
// by dragging and deleted with Delete, and boxes are resized by their corner handles. Coordinates
// are kept in image pixels and mapped through the viewer's own transform, so regions follow zoom,
// pan, rotation and flips. The layer lets the mouse through to the canvas tools except on regions
// and while a drawing tool is on.
import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { ImageInfo, Region } from '../../../preload/api';
import { useFindings } from '../../state/findings';
import { modelLabels, useReview } from '../../state/review';
import { useStudy } from '../../state/study';
import { useViewport } from '../../state/viewport';
import { geometryFor } from '../controller';
import { apply, invert, viewAffine, type Affine, type ViewTransform } from '../transform';

type Point = { x: number; y: number };
type Box = Extract<Region, { kind: 'box' }>;
type Drag =
  | { mode: 'draw'; from: Point; to: Point }
  | { mode: 'move'; index: number; from: Point; to: Point; orig: Region }
  | { mode: 'resize'; index: number; corner: 0 | 1 | 2 | 3; to: Point; orig: Box };

/** Smallest box, in screen pixels, a drag makes (a click is not a box). */
const MIN_DRAG_PX = 4;
const HUES = [28, 200, 130, 300, 50, 0, 260, 170, 90];

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Image pixels → layer (CSS) pixels: the same map the viewer draws with (fit, zoom, pan, rotation, flips). */
function layerAffine(info: Pick<ImageInfo, 'width' | 'height' | 'spacing'>, w: number, h: number, view: ViewTransform): Affine {
  return viewAffine(geometryFor(info, w, h, 1), view);
}

const forward = (m: Affine, p: Point): [number, number] => apply(m, p.x, p.y);

function backward(m: Affine, x: number, y: number): Point {
  const [ix, iy] = apply(invert(m), x, y);
  return { x: ix, y: iy };
}

/** The points that bound a region, for keeping a moved region on the image. */
function extent(r: Region): { x0: number; y0: number; x1: number; y1: number } {
  if (r.kind === 'box') return r;
  const pts = r.kind === 'point' ? [r] : r.points;
  return { x0: Math.min(...pts.map((p) => p.x)), y0: Math.min(...pts.map((p) => p.y)), x1: Math.max(...pts.map((p) => p.x)), y1: Math.max(...pts.map((p) => p.y)) };
}

function translate(r: Region, dx: number, dy: number, round: (v: number) => number = (v) => v): Region {
  switch (r.kind) {
    case 'box':
      return { ...r, x0: round(r.x0 + dx), x1: round(r.x1 + dx), y0: round(r.y0 + dy), y1: round(r.y1 + dy) };
    case 'polygon':
      return { ...r, points: r.points.map((p) => ({ x: round(p.x + dx), y: round(p.y + dy) })) };
    case 'point':
      return { ...r, x: round(r.x + dx), y: round(r.y + dy) };
  }
}

function dragged(d: Drag, width: number, height: number, round?: (v: number) => number): Region | null {
  if (d.mode === 'draw') return null;
  if (d.mode === 'move') {
    const e = extent(d.orig);
    const dx = clamp(d.to.x - d.from.x, -e.x0, width - e.x1);
    const dy = clamp(d.to.y - d.from.y, -e.y0, height - e.y1);
    return translate(d.orig, dx, dy, round);
  }
  const o = d.orig;
  // Corners: 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left; the opposite one stays put.
  const fixedX = d.corner === 0 || d.corner === 3 ? o.x1 : o.x0;
  const fixedY = d.corner === 0 || d.corner === 1 ? o.y1 : o.y0;
  return { ...o, x0: Math.min(fixedX, d.to.x), x1: Math.max(fixedX, d.to.x), y0: Math.min(fixedY, d.to.y), y1: Math.max(fixedY, d.to.y) };
}

export function AnnotationLayer() {
  const info = useStudy((s) => s.info);
  const regions = useReview((s) => s.draft.regions);
  const tool = useReview((s) => s.tool);
  const selected = useReview((s) => s.selected);
  const view = useViewport((s) => s.view);
  const labelIds = useFindings((s) => (s.result?.model.labels ?? s.model?.labels ?? []).map((l) => l.id).join('\n'));
  const svgRef = useRef<SVGSVGElement>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  const [drag, setDrag] = useState<Drag | null>(null);
  /** Corners of the polygon being drawn, in image pixels. */
  const [corners, setCorners] = useState<Point[]>([]);

  // Leaving the polygon tool (Escape, another tool, another case) drops an unfinished polygon.
  useEffect(() => setCorners([]), [tool, info?.imageId]);

  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const observe = new ResizeObserver(() => setSize({ w: svg.clientWidth, h: svg.clientHeight }));
    observe.observe(svg);
    return () => observe.disconnect();
  }, []);

  const m: Affine | null = info && size.w > 0 ? layerAffine(info, size.w, size.h, view) : null;

  const toImage = (clientX: number, clientY: number): Point => {
    const b = svgRef.current!.getBoundingClientRect();
    const p = backward(m!, clientX - b.left, clientY - b.top);
    return { x: clamp(p.x, 0, info!.width), y: clamp(p.y, 0, info!.height) };
  };
  /** Screen distance between two image points (CSS pixels). */
  const screenDistance = (p: Point, q: Point) => {
    const [x0, y0] = forward(m!, p);
    const [x1, y1] = forward(m!, q);
    return Math.hypot(x1 - x0, y1 - y0);
  };

  // While dragging, the window follows the pointer so a drag may leave the layer.
  useEffect(() => {
    if (!drag || !info || !m) return;
    const onMove = (e: PointerEvent) => setDrag((d) => (d ? { ...d, to: toImage(e.clientX, e.clientY) } : d));
    const onUp = (e: PointerEvent) => {
      const d = { ...drag, to: toImage(e.clientX, e.clientY) };
      setDrag(null);
      const review = useReview.getState();
      if (d.mode === 'draw') {
        const wPx = screenDistance(d.from, { x: d.to.x, y: d.from.y });
        const hPx = screenDistance(d.from, { x: d.from.x, y: d.to.y });
        const labelId = review.activeLabel ?? modelLabels()[0]?.id;
        if (wPx < MIN_DRAG_PX || hPx < MIN_DRAG_PX || !labelId) return;
        review.addRegion({
          kind: 'box',
          labelId,
          x0: Math.round(Math.min(d.from.x, d.to.x)),
          y0: Math.round(Math.min(d.from.y, d.to.y)),
          x1: Math.round(Math.max(d.from.x, d.to.x)),
          y1: Math.round(Math.max(d.from.y, d.to.y)),
        });
        return;
      }
      const next = dragged(d, info.width, info.height, (v) => Math.round(v * 10) / 10);
      const tooSmall = next?.kind === 'box' && (next.x1 - next.x0 < 1 || next.y1 - next.y0 < 1);
      if (next && !tooSmall && JSON.stringify(next) !== JSON.stringify(d.orig)) review.updateRegion(d.index, next);
    };
    window.addEventListener('pointermove', onMove);
    window.addEventListener('pointerup', onUp, { once: true });
    return () => {
      window.removeEventListener('pointermove', onMove);
      window.removeEventListener('pointerup', onUp);
    };
    // toImage reads the current mapping; re-binding on each drag change keeps it fresh.
  });

  if (!info || !m) return <svg ref={svgRef} className="annotation-layer" data-testid="annotation-layer" aria-hidden="true" />;

  const at = (p: Point) => forward(m, p).join(',');
  /** A box's four corners on screen (a rotated view turns it). */
  const boxPoints = (x0: number, y0: number, x1: number, y1: number) => [at({ x: x0, y: y0 }), at({ x: x1, y: y0 }), at({ x: x1, y: y1 }), at({ x: x0, y: y1 })].join(' ');
  const hue = (labelId: string) => HUES[Math.max(0, labelIds.split('\n').indexOf(labelId)) % HUES.length];
  const start = (e: ReactPointerEvent, d: Drag) => {
    if (e.button !== 0) return;
    e.preventDefault();
    e.stopPropagation();
    setDrag(d);
  };

  const shapes = regions.map((region, i) => {
    const live = drag && drag.mode !== 'draw' && drag.index === i ? dragged(drag, info.width, info.height) : null;
    const r = live ?? region;
    const colour = `hsl(${hue(r.labelId)} 90% 60%)`;
    const isSelected = i === selected;
    const common = {
      'data-testid': `region-${i}`,
      className: `region${isSelected ? ' selected' : ''}`,
      stroke: colour,
      onPointerDown: (e: ReactPointerEvent) => {
        if (tool !== 'select') return;
        e.stopPropagation();
        useReview.getState().select(i);
        start(e, { mode: 'move', index: i, from: toImage(e.clientX, e.clientY), to: toImage(e.clientX, e.clientY), orig: r });
      },
    };
    if (r.kind === 'box') {
      const corners: Point[] = [
        { x: r.x0, y: r.y0 },
        { x: r.x1, y: r.y0 },
        { x: r.x1, y: r.y1 },
        { x: r.x0, y: r.y1 },
      ];
      return (
        <g key={i}>
          <polygon {...common} points={boxPoints(r.x0, r.y0, r.x1, r.y1)} />
          <text x={forward(m, { x: r.x0, y: r.y0 })[0] + 3} y={forward(m, { x: r.x0, y: r.y0 })[1] - 4} fill={colour} className="region-label">
            {r.labelId}
          </text>
          {isSelected &&
            tool === 'select' &&
            corners.map((c, k) => (
              <rect
                key={k}
                className="handle"
                data-testid={`region-${i}-handle-${k}`}
                x={forward(m, c)[0] - 5}
                y={forward(m, c)[1] - 5}
                width={10}
                height={10}
                onPointerDown={(e) => start(e, { mode: 'resize', index: i, corner: k as 0 | 1 | 2 | 3, to: toImage(e.clientX, e.clientY), orig: r })}
              />
            ))}
        </g>
      );
    }
    if (r.kind === 'polygon') {
      return <polygon key={i} {...common} points={r.points.map(at).join(' ')} />;
    }
    return <circle key={i} {...common} cx={forward(m, r)[0]} cy={forward(m, r)[1]} r={5} />;
  });

  const labelForNew = () => useReview.getState().activeLabel ?? modelLabels()[0]?.id;
  const closePolygon = (clicked: Point[]) => {
    const labelId = labelForNew();
    setCorners([]);
    // A double-click lands two clicks on one spot: keep one corner per place.
    const points = clicked.filter((p, k) => k === 0 || screenDistance(p, clicked[k - 1]!) >= 3);
    if (points.length >= 3 && labelId) useReview.getState().addRegion({ kind: 'polygon', labelId, points: points.map((p) => ({ x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 })) });
  };
  const onLayerDown = (e: ReactPointerEvent) => {
    if (tool === 'select') {
      useReview.getState().select(null);
      return;
    }
    if (e.button !== 0) return;
    const p = toImage(e.clientX, e.clientY);
    if (tool === 'box') start(e, { mode: 'draw', from: p, to: p });
    else if (tool === 'point') {
      const labelId = labelForNew();
      if (labelId) useReview.getState().addRegion({ kind: 'point', labelId, x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 });
    } else {
      e.preventDefault();
      const first = corners[0];
      // A click on the first corner (within a few screen pixels) closes the polygon.
      if (first && corners.length >= 3 && screenDistance(first, p) < 8) closePolygon(corners);
      else setCorners((c) => [...c, p]);
    }
  };

  const preview =
    drag?.mode === 'draw' ? (
      <polygon className="region drawing" points={boxPoints(drag.from.x, drag.from.y, drag.to.x, drag.to.y)} />
    ) : corners.length > 0 ? (
      <g>
        <polyline className="region drawing" points={corners.map(at).join(' ')} />
        {corners.map((p, k) => (
          <circle key={k} className="corner-dot" cx={forward(m, p)[0]} cy={forward(m, p)[1]} r={k === 0 ? 5 : 3} />
        ))}
      </g>
    ) : null;

  return (
    <svg
      ref={svgRef}
      className={`annotation-layer${tool !== 'select' ? ' drawing' : ''}`}
      data-testid="annotation-layer"
      data-regions={regions.length}
      onPointerDown={onLayerDown}
      onDoubleClick={() => tool === 'polygon' && closePolygon(corners)}
    >
      {shapes}
      {preview}
    </svg>
  );
}
