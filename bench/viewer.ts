// Runs as `npm run bench:viewer` (builds, then `node dist/bench/viewer.cjs`). The viewer in headless
// Chromium (Debian's, software WebGL2 through SwiftShader, as the e2e suite runs it) against browser
// mode: a 3,000 × 3,000 16-bit radiograph, time from open to the first frame drawn, and the frame
// time of a window/level drag over 120 animation frames, for the WebGL2 path and the Canvas 2D path
// (a CPU LUT over every pixel per window change) in the same run; then progressive display of a
// 2,500 × 3,000 JPEG 2000 radiograph: open → first frame drawn (reduced) and → full resolution
// drawn, with the API calls' timings. Prints JSON; never asserts.
//
// Frame time = the main thread's input handling (pointermove → store → React) + the draw the
// controller does in the next animation frame, ended by reading one pixel back, which waits until
// the GPU (or SwiftShader) has finished the frame. The interval between animation frames is
// reported too; it cannot go below the display's refresh period. For WebGL2 a traced drag splits
// the GPU process's main thread per frame into the viewer's WebGL commands and the browser's own
// compositing of the window (see gpuThreadSplit). Type-checked with the e2e project (DOM types for
// the code that runs in the page).
import type { Browser, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchChromium, startServer } from './browser-mode';

const SIZE = Number(process.env.RESIGHT_BENCH_SIZE ?? 3000);
const FRAMES = 120;
const J2K_ROWS = 3000;
const J2K_COLUMNS = 2500;
const [vw, vh] = (process.env.RESIGHT_BENCH_VIEWPORT ?? '1440x900').split('x').map(Number);
const VIEWPORT = { width: vw ?? 1440, height: vh ?? 900 };

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const round = (x: number) => Math.round(x * 100) / 100;
const stats = (xs: number[]) => ({ median: round(quantile(xs, 0.5)), p95: round(quantile(xs, 0.95)), max: round(Math.max(...xs)), n: xs.length });

interface OpenTiming {
  /** Submitting the path → the canvas first shows the image (reduced or full). */
  firstFrameMs: number;
  /** What that first frame was. */
  firstResolution: string;
  /** Submitting → the full-resolution frame drawn. */
  fullFrameMs: number;
  /** Each texture drawn on the way (width × height) and when, ms from submitting. */
  textures: { size: string; ms: number }[];
  /** The API calls of the open, from the page's resource timing: start and duration (ms from submitting). */
  calls: { call: string; startMs: number; durationMs: number; bytes: number }[];
}

/**
 * Opens the file by path; times the first frame drawn and the full-resolution one. With `until:
 * 'view'` it returns once the view's own level is drawn, while the full frame is still decoding.
 */
async function openTimed(page: Page, file: string, until: 'full' | 'view' = 'full'): Promise<OpenTiming> {
  const input = page.getByLabel('File on this computer');
  await input.fill(file);
  await page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="image-canvas"]') as HTMLCanvasElement;
    const w = window as unknown as { __openedAt?: number; __firstResolution?: string; __fullAt?: number; __textures?: { size: string; at: number }[] };
    w.__textures = [];
    w.__openedAt = undefined;
    w.__fullAt = undefined;
    // A second open in the same page: the canvas shows the previous image until the new one is drawn.
    const previous = canvas.dataset.imageId ?? '';
    performance.clearResourceTimings();
    // Counts API calls in flight, so the timings are read once the reduced request has ended too.
    const counted = window as unknown as { __pending?: number };
    if (counted.__pending === undefined) {
      counted.__pending = 0;
      const original = window.fetch.bind(window);
      window.fetch = (...args: Parameters<typeof fetch>) => {
        counted.__pending = (counted.__pending ?? 0) + 1;
        return original(...args).finally(() => (counted.__pending = (counted.__pending ?? 1) - 1));
      };
    }
    new MutationObserver((_, obs) => {
      const texture = canvas.dataset.texture ?? '';
      const drawn = /^[0-9a-f]{64}$/.test(canvas.dataset.imageId ?? '') && canvas.dataset.imageId !== previous;
      if (drawn && texture && w.__textures!.at(-1)?.size !== texture) w.__textures!.push({ size: texture, at: performance.now() });
      if (w.__openedAt === undefined && drawn) {
        w.__openedAt = performance.now();
        w.__firstResolution = canvas.dataset.resolution;
      }
      if (w.__openedAt !== undefined && canvas.dataset.resolution === 'full') {
        w.__fullAt = performance.now();
        obs.disconnect();
      }
    }).observe(canvas, { attributes: true, attributeFilter: ['data-image-id', 'data-resolution', 'data-texture'] });
  });
  // Timed from the Enter key reaching the page, not from the test driver sending it.
  await input.evaluate((el) => el.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Enter') (window as unknown as { __submittedAt?: number }).__submittedAt = performance.now();
  }, { capture: true, once: true }));
  await input.press('Enter');
  if (until === 'view') {
    await page.waitForFunction(() => (window as unknown as { __textures: unknown[] }).__textures.length >= 2, undefined, { timeout: 120_000 });
  } else {
    await page.waitForFunction(() => (window as unknown as { __fullAt?: number }).__fullAt !== undefined, undefined, { timeout: 120_000 });
    await page.waitForFunction(() => (window as unknown as { __pending: number }).__pending === 0, undefined, { timeout: 120_000 });
  }
  return page.evaluate(() => {
    const start = (window as unknown as { __submittedAt: number }).__submittedAt;
    const w = window as unknown as { __openedAt: number; __firstResolution: string; __fullAt: number; __textures: { size: string; at: number }[] };
    const calls = performance
      .getEntriesByType('resource')
      .filter((e) => e.name.includes('/api/studies.'))
      .map((e) => {
        const r = e as PerformanceResourceTiming;
        const body = r.name.split('/api/')[1] ?? '';
        return { call: body, startMs: Math.round(r.startTime - start), durationMs: Math.round(r.duration), bytes: r.encodedBodySize };
      });
    const textures = w.__textures.map((t) => ({ size: t.size, ms: Math.round(t.at - start) }));
    return { firstFrameMs: w.__openedAt - start, firstResolution: w.__firstResolution, fullFrameMs: w.__fullAt - start, textures, calls };
  });
}

/**
 * Where the GPU process's main thread spends a drag frame, from a Chrome trace of a second, shorter
 * drag (tracing slows the page, so not the timed one): the viewer's own WebGL commands, and the
 * display compositor drawing and presenting the window (SkiaOutputSurfaceImplOnGpu::SwapBuffers),
 * which headless Chromium on SwiftShader redoes for the whole window every frame.
 */
async function gpuThreadSplit(browser: Browser, page: Page): Promise<{ webglMs: number; compositorSwapMs: number; frames: number }> {
  const frames = 30;
  await browser.startTracing(page, { categories: ['gpu', 'viz', 'webgl', 'toplevel'] });
  await dragFrames(page, frames);
  const trace = JSON.parse((await browser.stopTracing()).toString('utf8')) as { traceEvents: TraceEvent[] };
  const threads = new Map<string, string>();
  for (const e of trace.traceEvents) if (e.ph === 'M' && e.name === 'thread_name') threads.set(`${e.pid}:${e.tid}`, String(e.args?.name));
  let webgl = 0;
  let swap = 0;
  for (const e of trace.traceEvents) {
    if (e.ph !== 'X' || !e.dur || threads.get(`${e.pid}:${e.tid}`) !== 'CrGpuMain') continue;
    if (e.name === 'WebGL') webgl += e.dur;
    else if (e.name === 'SkiaOutputSurfaceImplOnGpu::SwapBuffers') swap += e.dur;
  }
  // The trace covers the idle frames before the drag too; they draw nothing, so add nothing.
  return { webglMs: round(webgl / 1000 / frames), compositorSwapMs: round(swap / 1000 / frames), frames };
}

interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  dur?: number;
  args?: { name?: string };
}

/** Drags window/level across FRAMES animation frames; one pointermove per frame. */
async function dragFrames(page: Page, count = FRAMES): Promise<{ frameMs: number[]; drawMs: number[]; intervalMs: number[]; idleMs: number[] }> {
  return page.evaluate(async (frames) => {
    const canvas = document.querySelector('[data-testid="image-canvas"]') as HTMLCanvasElement;
    const gl = canvas.dataset.renderer === 'webgl2' ? (canvas.getContext('webgl2') as WebGL2RenderingContext) : null;
    const ctx = gl ? null : canvas.getContext('2d');
    const pixel = new Uint8Array(4);
    // Reading one pixel back waits for the frame to be finished, not merely queued.
    const sync = () => (gl ? gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel) : ctx?.getImageData(0, 0, 1, 1));
    const r = canvas.getBoundingClientRect();
    const x0 = r.left + r.width / 2;
    const y0 = r.top + r.height / 2;
    const fire = (type: string, x: number, y: number, buttons: number) =>
      canvas.dispatchEvent(new PointerEvent(type, { clientX: x, clientY: y, button: 0, buttons, pointerId: 1, pointerType: 'mouse', bubbles: true }));
    const nextFrame = () => new Promise<number>((res) => requestAnimationFrame(res));
    // The same measurement on frames with nothing to draw: what a frame costs this machine anyway.
    const idleMs: number[] = [];
    for (let i = 0; i < 30; i++) {
      await nextFrame();
      const s0 = nextFrame().then(() => performance.now());
      const e0 = nextFrame().then(() => {
        sync();
        return performance.now();
      });
      const [s, e] = await Promise.all([s0, e0]);
      idleMs.push(e - s);
    }
    fire('pointerdown', x0, y0, 1);
    await nextFrame();
    const frameMs: number[] = [];
    const drawMs: number[] = [];
    const intervalMs: number[] = [];
    let last = performance.now();
    for (let i = 1; i <= frames; i++) {
      await nextFrame();
      // Registered before the move, so it runs first next frame: the draw starts after it.
      const start = nextFrame().then(() => performance.now());
      const t0 = performance.now();
      fire('pointermove', x0 + (i % 40) * 3 - 60, y0 + (i % 25) * 2, 1);
      const inputMs = performance.now() - t0;
      const end = nextFrame().then(() => {
        sync();
        return performance.now();
      });
      const [s, e] = await Promise.all([start, end]);
      drawMs.push(e - s);
      frameMs.push(inputMs + (e - s));
      intervalMs.push(e - last);
      last = e;
    }
    fire('pointerup', x0, y0, 0);
    return { frameMs, drawMs, intervalMs, idleMs };
  }, count);
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'resight-bench-viewer-'));
  const file = path.join(work, 'big.dcm');
  const fixtures = path.resolve(__dirname, '..', '..', 'main/imaging/testdata/fixtures.py');
  execFileSync('/usr/bin/python3', [fixtures, 'big', file, String(SIZE), String(SIZE)]);
  // A 2,500 × 3,000 JPEG 2000 radiograph (as bench/imaging makes it), for progressive display.
  const j2kSource = path.join(work, 'j2k-source.dcm');
  const j2k = path.join(work, 'j2k.dcm');
  execFileSync('/usr/bin/python3', [fixtures, 'big', j2kSource, String(J2K_ROWS), String(J2K_COLUMNS)]);
  execFileSync('gdcmconv', ['--j2k', j2kSource, j2k]);
  const server = await startServer(path.join(work, 'data'));
  const browser = await launchChromium();
  const results: Record<string, unknown> = {};
  try {
    const renderers = (process.env.RESIGHT_BENCH_RENDERERS ?? 'webgl2,canvas2d').split(',');
    for (const renderer of ['webgl2', 'canvas2d'] as const) {
      if (!renderers.includes(renderer)) continue;
      const page = await browser.newPage({ viewport: VIEWPORT });
      await page.goto(renderer === 'canvas2d' ? `${server.url}&renderer=canvas2d` : server.url);
      await page.getByTestId('sample-list').waitFor();
      const opened = await openTimed(page, file);
      const canvas = page.getByTestId('image-canvas');
      const kind = await canvas.getAttribute('data-renderer');
      const size = await canvas.evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
      const drag = await dragFrames(page);
      const split = renderer === 'webgl2' ? await gpuThreadSplit(browser, page) : null;
      results[renderer] = {
        renderer: kind,
        canvas: size,
        openToFirstFrameMs: round(opened.firstFrameMs),
        openToFullFrameMs: round(opened.fullFrameMs),
        windowLevelFrameMs: stats(drag.frameMs),
        drawMs: stats(drag.drawMs),
        animationFrameIntervalMs: stats(drag.intervalMs),
        idleFrameMs: stats(drag.idleMs),
        ...(split ? { gpuThreadPerFrameMs: split } : {}),
      };
      await page.close();
    }
    // The first film opened after the server starts, then another film (a copy with one byte
    // changed, so no cache keyed on the file's hash helps), then one opened while the film before
    // it is still decoding in full.
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(server.url);
    await page.getByTestId('sample-list').waitFor();
    const described = (opened: OpenTiming) => {
      const openCall = opened.calls.find((c) => c.call === 'studies.openFile');
      const openReply = openCall && openCall.startMs + openCall.durationMs;
      return {
        openToFirstFrameMs: round(opened.firstFrameMs),
        firstResolution: opened.firstResolution,
        // Every texture drawn on the way: the level decoded on opening, the view's own level, the full frame.
        texturesDrawn: opened.textures,
        openToFullFrameMs: round(opened.fullFrameMs),
        // The viewer's own part: from the open call's reply (the image's header) to the first frame drawn.
        openReplyToFirstFrameMs: openReply === undefined ? null : round(opened.firstFrameMs - openReply),
        calls: opened.calls,
      };
    };
    const timed = async (file: string) => described(await openTimed(page, file));
    const first = await timed(j2k);
    // Copies with one preamble byte changed (readers skip the 128-byte preamble): other image ids.
    const copy = (name: string, byte: number): string => {
      const out = path.join(work, name);
      const bytes = readFileSync(j2k);
      bytes.writeUInt8(byte, 0);
      writeFileSync(out, bytes);
      return out;
    };
    const next = await timed(copy('j2k-next.dcm', 1));
    // A reader moving on as soon as a film shows its view's level: the next film opens while the
    // previous one's full frame is still decoding.
    await openTimed(page, copy('j2k-moved-from.dcm', 2), 'view');
    const whileFullDecodes = await timed(copy('j2k-moved-to.dcm', 3));
    results.progressiveJ2k = {
      image: { width: J2K_COLUMNS, height: J2K_ROWS, transferSyntax: 'JPEG 2000 Lossless (gdcmconv --j2k)' },
      canvas: await page.getByTestId('image-canvas').evaluate((c: HTMLCanvasElement) => [c.width, c.height]),
      firstAfterStart: first,
      next,
      whilePreviousFullDecodes: whileFullDecodes,
      targetFirstFrameMs: 150,
    };
    await page.close();
  } finally {
    await browser.close();
    server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const gl = results.webgl2 as { windowLevelFrameMs: { median: number } } | undefined;
  const c2d = results.canvas2d as { windowLevelFrameMs: { median: number } } | undefined;
  console.log(
    JSON.stringify(
      {
        bench: 'viewer',
        image: { width: SIZE, height: SIZE, bitsStored: 12, bitsAllocated: 16 },
        viewport: VIEWPORT,
        frames: FRAMES,
        browser: 'Debian Chromium, headless, WebGL2 via ANGLE + SwiftShader (software)',
        results,
        canvas2dOverWebgl2MedianFrame: gl && c2d ? round(c2d.windowLevelFrameMs.median / gl.windowLevelFrameMs.median) : null,
        targetMedianFrameMs: 16,
      },
      null,
      2,
    ),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
