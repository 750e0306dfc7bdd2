// Runs in tests (Node, no DOM). The study store's progressive display against a backend whose
// replies the test releases by hand: the reduced frame shown first and swapped for the full one
// without touching window or view, a full frame that comes first winning, one full request however
// often it is asked for, and a series stepped file by file.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { FrameData, ImageInfo } from '../../preload/api';

interface Pending {
  method: string;
  input: Record<string, unknown>;
  resolve(value: unknown): void;
}
const pending: Pending[] = [];
/** getFrame requests in the order sent: 'reduced' or 'full'. */
const sent: string[] = [];
vi.mock('../api/client', () => ({
  call: (method: string, input: Record<string, unknown>) => {
    if (method === 'feedback.latest') return Promise.resolve(null);
    if (method === 'studies.getFrame') sent.push('target' in input ? 'reduced' : 'full');
    return new Promise((resolve) => pending.push({ method, input, resolve }));
  },
  getTransport: () => ({ frontDoor: 'browser' }),
  onEvent: () => () => undefined,
}));

const { reportViewSize, useStudy } = await import('./study');
const { useViewport } = await import('./viewport');

const ID = (n: number) => String(n).repeat(64);
const info = (n: number, over: Partial<ImageInfo> = {}): ImageInfo => ({
  imageId: ID(n),
  format: 'dicom',
  fileName: 'x.dcm',
  width: 2000,
  height: 2000,
  frames: 1,
  samplesPerPixel: 1,
  bitsStored: 12,
  pixelDataType: 'uint16',
  photometric: 'MONOCHROME2',
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [{ center: 2048, width: 4096 }],
  ...over,
});
const frame = (n: number, size: number, index = 0): FrameData => ({
  meta: { imageId: ID(n), frame: index, width: size, height: size, samplesPerPixel: 1, pixelDataType: 'uint16' },
  data: new Uint8Array(size * size * 2),
});

const flush = () => new Promise((r) => setTimeout(r, 0));
/** Waits for the next call of this method (with a target or without) and returns it. */
async function next(method: string, reduced?: boolean): Promise<Pending> {
  for (let i = 0; i < 50; i++) {
    const at = pending.findIndex((p) => p.method === method && (reduced === undefined || 'target' in p.input === reduced));
    if (at >= 0) return pending.splice(at, 1)[0] as Pending;
    await flush();
  }
  throw new Error(`no ${method} call`);
}

describe('progressive display', () => {
  beforeEach(() => {
    pending.length = 0;
    sent.length = 0;
    reportViewSize({ width: 500, height: 500 });
    useStudy.setState({ info: null, frame: null, frameIndex: 0, stack: null });
  });

  it('shows the reduced frame first, then swaps in the full one keeping window and view', async () => {
    const opening = useStudy.getState().open({ kind: 'file', path: '/a.dcm' });
    (await next('studies.openFile')).resolve(info(1));
    const full = await next('studies.getFrame', false);
    const reduced = await next('studies.getFrame', true);
    // A 2,000 px image on 500 device pixels: 500 less the 5% slack, asked for before the full frame.
    expect(reduced.input.target).toEqual({ width: 475, height: 475 });
    expect(sent).toEqual(['reduced', 'full']);
    reduced.resolve(frame(1, 500));
    await opening;
    expect(useStudy.getState().frame?.meta.width).toBe(500);

    useViewport.getState().setWindow({ center: 100, width: 200 });
    useViewport.getState().setView({ zoom: 3, panX: 10, panY: -4 });
    // Zoomed past the reduced frame: asking again joins the request on its way.
    void useStudy.getState().ensureFullFrame();
    void useStudy.getState().ensureFullFrame();
    await flush();
    expect(pending.filter((p) => p.method === 'studies.getFrame')).toHaveLength(0);

    full.resolve(frame(1, 2000));
    await flush();
    expect(useStudy.getState().frame?.meta.width).toBe(2000);
    expect(useViewport.getState().window).toEqual({ center: 100, width: 200 });
    expect(useViewport.getState().view).toMatchObject({ zoom: 3, panX: 10, panY: -4 });
  });

  it('shows a full frame that comes first and drops the reduced one that follows', async () => {
    const opening = useStudy.getState().open({ kind: 'file', path: '/b.dcm' });
    (await next('studies.openFile')).resolve(info(2));
    const full = await next('studies.getFrame', false);
    const reduced = await next('studies.getFrame', true);
    full.resolve(frame(2, 2000));
    await opening;
    reduced.resolve(frame(2, 500));
    await flush();
    expect(useStudy.getState().frame?.meta.width).toBe(2000);
  });

  it('asks only for the full frame of an image no larger than the view', async () => {
    const opening = useStudy.getState().open({ kind: 'file', path: '/c.dcm' });
    (await next('studies.openFile')).resolve(info(3, { width: 400, height: 400 }));
    (await next('studies.getFrame', false)).resolve(frame(3, 400));
    await opening;
    expect(pending).toHaveLength(0);
    expect(useStudy.getState().frame?.meta.width).toBe(400);
  });
});

describe('a series', () => {
  beforeEach(() => {
    pending.length = 0;
    reportViewSize({ width: 4000, height: 4000 });
  });

  it('steps past a file to the next one, keeping the window, and back', async () => {
    const stack = { seriesInstanceUid: '1.2', instances: [{ path: '/s/1.dcm', frames: 1 }, { path: '/s/2.dcm', frames: 1 }], position: 0 };
    const opening = useStudy.getState().openSeries(stack);
    const open1 = await next('studies.openFile');
    expect(open1.input).toEqual({ path: '/s/1.dcm', view: { width: 4000, height: 4000 } });
    open1.resolve(info(4));
    (await next('studies.getFrame', false)).resolve(frame(4, 2000));
    await opening;
    expect(useStudy.getState().canStep()).toBe(true);
    useViewport.getState().setWindow({ center: 7, width: 70 });

    const stepping = useStudy.getState().stepFrame(1);
    const open2 = await next('studies.openFile');
    expect(open2.input).toEqual({ path: '/s/2.dcm', view: { width: 4000, height: 4000 } });
    open2.resolve(info(5));
    (await next('studies.getFrame', false)).resolve(frame(5, 2000));
    await stepping;
    expect(useStudy.getState().stack?.position).toBe(1);
    expect(useStudy.getState().info?.imageId).toBe(ID(5));
    expect(useViewport.getState().window).toEqual({ center: 7, width: 70 });

    void useStudy.getState().stepFrame(-1);
    expect((await next('studies.openFile')).input).toEqual({ path: '/s/1.dcm', view: { width: 4000, height: 4000 } });
  });
});
