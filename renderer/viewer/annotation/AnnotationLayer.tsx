// Runs in the renderer. The reader's regions drawn over the image, in an SVG layer above the
// canvas: boxes are drawn by dragging with the box tool, polygons corner by corner (double-click
// or the first corner closes them), points by a click; any region is selected by a click, moved
// by dragging and deleted with Delete, and boxes are resized by their corner handles. Coordinates are kept in image pixels;
// the layer maps them with the same fit the viewer uses. The layer lets pointer events through to
// the canvas (window/level) except on regions and while the box tool is on.
import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { Region } from '../../../preload/api';
import { useFindings } from '../../state/findings';
import { modelLabels, useReview } from '../../state/review';
import { useStudy } from '../../state/study';
import { fitRect, type Rect } from '../layout';

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

  const rect: Rect | null = info && size.w > 0 ? fitRect(size.w, size.h, info.width, info.height, info.spacing ? info.spacing.row / info.spacing.column : 1) : null;

  const toImage = (clientX: number, clientY: number): Point => {
    const b = svgRef.current!.getBoundingClientRect();
    return {
      x: clamp(((clientX - b.left - rect!.x) / rect!.width) * info!.width, 0, info!.width),
      y: clamp(((clientY - b.top - rect!.y) / rect!.height) * info!.height, 0, info!.height),
    };
  };

  // While dragging, the window follows the pointer so a drag may leave the layer.
  useEffect(() => {
    if (!drag || !info || !rect) return;
    const onMove = (e: PointerEvent) => setDrag((d) => (d ? { ...d, to: toImage(e.clientX, e.clientY) } : d));
    const onUp = (e: PointerEvent) => {
      const d = { ...drag, to: toImage(e.clientX, e.clientY) };
      setDrag(null);
      const review = useReview.getState();
      if (d.mode === 'draw') {
        const wPx = (Math.abs(d.to.x - d.from.x) / info.width) * rect.width;
        const hPx = (Math.abs(d.to.y - d.from.y) / info.height) * rect.height;
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
    // toImage reads the current rect; re-binding on each drag change keeps it fresh.
  });

  if (!info || !rect) return <svg ref={svgRef} className="annotation-layer" data-testid="annotation-layer" aria-hidden="true" />;

  const sx = (x: number) => rect.x + (x / info.width) * rect.width;
  const sy = (y: number) => rect.y + (y / info.height) * rect.height;
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
          <rect {...common} x={sx(r.x0)} y={sy(r.y0)} width={sx(r.x1) - sx(r.x0)} height={sy(r.y1) - sy(r.y0)} />
          <text x={sx(r.x0) + 3} y={sy(r.y0) - 4} fill={colour} className="region-label">
            {r.labelId}
          </text>
          {isSelected &&
            tool === 'select' &&
            corners.map((c, k) => (
              <rect
                key={k}
                className="handle"
                data-testid={`region-${i}-handle-${k}`}
                x={sx(c.x) - 5}
                y={sy(c.y) - 5}
                width={10}
                height={10}
                onPointerDown={(e) => start(e, { mode: 'resize', index: i, corner: k as 0 | 1 | 2 | 3, to: toImage(e.clientX, e.clientY), orig: r })}
              />
            ))}
        </g>
      );
    }
    if (r.kind === 'polygon') {
      return <polygon key={i} {...common} points={r.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} />;
    }
    return <circle key={i} {...common} cx={sx(r.x)} cy={sy(r.y)} r={5} />;
  });

  const labelForNew = () => useReview.getState().activeLabel ?? modelLabels()[0]?.id;
  const closePolygon = (clicked: Point[]) => {
    const labelId = labelForNew();
    setCorners([]);
    // A double-click lands two clicks on one spot: keep one corner per place.
    const points = clicked.filter((p, k) => k === 0 || Math.hypot(sx(p.x) - sx(clicked[k - 1]!.x), sy(p.y) - sy(clicked[k - 1]!.y)) >= 3);
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
      if (first && corners.length >= 3 && Math.hypot(sx(first.x) - sx(p.x), sy(first.y) - sy(p.y)) < 8) closePolygon(corners);
      else setCorners((c) => [...c, p]);
    }
  };

  const preview =
    drag?.mode === 'draw' ? (
      <rect
        className="region drawing"
        x={sx(Math.min(drag.from.x, drag.to.x))}
        y={sy(Math.min(drag.from.y, drag.to.y))}
        width={Math.abs(sx(drag.to.x) - sx(drag.from.x))}
        height={Math.abs(sy(drag.to.y) - sy(drag.from.y))}
      />
    ) : corners.length > 0 ? (
      <g>
        <polyline className="region drawing" points={corners.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} />
        {corners.map((p, k) => (
          <circle key={k} className="corner-dot" cx={sx(p.x)} cy={sy(p.y)} r={k === 0 ? 5 : 3} />
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
