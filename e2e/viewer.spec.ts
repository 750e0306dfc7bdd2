// Runs under Playwright (Node) against browser mode: the viewer as a reader uses it. Grey values on
// screen against `resight render` (the CLI's full display pipeline) on the MONOCHROME1 CR sample,
// window/level by drag, the heatmap and its opacity, zoom and pan, a calibrated length, and a
// multi-frame stack scrolled with the wheel. Screenshots go to e2e/screenshots/.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { APP_ROOT, canvasPixels, changedFraction, SHOTS, startServer, type Pixels, type Server } from './support';

const CLI = join(APP_ROOT, 'dist/cli/resight.cjs');
const CR = 'cxr-cardiomegaly-effusion-cr.dcm';
/** The CR sample's Imager Pixel Spacing (mm), as written in the file. */
const CR_SPACING_MM = 0.671875;
const CR_SIZE = 640;

let server: Server;
let work: string;

/** The canvas's own pixels (its drawing buffer, device pixels), not a screenshot of the page. */
async function drawingBuffer(canvas: Locator): Promise<Pixels> {
  const url = await canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL('image/png'));
  const { data, info } = await sharp(Buffer.from(url.split(',')[1] as string, 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The fitted image's place on a canvas of this size (square pixels, zoom 1): scale and offset. */
function fit(width: number, height: number, imageW: number, imageH: number) {
  const s = Math.min(width / imageW, height / imageH);
  return { s, ox: width / 2 - (imageW / 2) * s, oy: height / 2 - (imageH / 2) * s };
}

async function open(page: Page, sample: string): Promise<Locator> {
  await page.getByTestId(`sample-${sample}`).click();
  const canvas = page.getByTestId('image-canvas');
  await expect(page.getByTestId(`sample-${sample}`)).toHaveAttribute('aria-current', 'true');
  await expect(canvas).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);
  return canvas;
}

test.beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'resight-viewer-e2e-'));
  server = await startServer(join(work, 'data'));
});

test.afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('MONOCHROME1 CR: grey values match `resight render`; W/L drag; zoom, pan; a calibrated length', async ({ page }) => {
  await page.goto(server.url);
  const canvas = await open(page, CR);
  await expect(canvas).toHaveAttribute('data-renderer', 'webgl2');
  const readout = page.getByTestId('window-readout');
  await expect(readout).toHaveText('W 3200 · L 2095');

  // The reference: the CLI's 8-bit render with the file's window, read as one grey channel.
  const refPng = join(work, 'cr-ref.png');
  execFileSync(process.execPath, [CLI, 'render', join(APP_ROOT, 'assets/samples', CR), '--window', '2095,3200', '--out', refPng]);
  const ref = await sharp(refPng).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  expect([ref.info.width, ref.info.height]).toEqual([CR_SIZE, CR_SIZE]);

  await page.mouse.move(0, 0);
  const shown = await canvasPixels(canvas, 'viewer-cr-fit.png');
  const buffer = await drawingBuffer(canvas);
  const g = fit(buffer.width, buffer.height, CR_SIZE, CR_SIZE);
  let compared = 0;
  let worst = 0;
  for (const [fx, fy] of [0.1, 0.25, 0.4, 0.55, 0.7, 0.85].flatMap((a) => [0.15, 0.35, 0.5, 0.65, 0.8].map((b) => [a, b] as const))) {
    // A canvas pixel whose centre falls well inside one image pixel, so the comparison is exact.
    const cx = Math.round(g.ox + fx * CR_SIZE * g.s);
    const cy = Math.round(g.oy + fy * CR_SIZE * g.s);
    const ix = (cx + 0.5 - g.ox) / g.s;
    const iy = (cy + 0.5 - g.oy) / g.s;
    if (Math.abs(ix - Math.round(ix)) < 0.1 || Math.abs(iy - Math.round(iy)) < 0.1) continue;
    const expected = ref.data[Math.floor(iy) * CR_SIZE + Math.floor(ix)] as number;
    const got = buffer.data[(cy * buffer.width + cx) * 3] as number;
    worst = Math.max(worst, Math.abs(got - expected));
    compared++;
  }
  expect(compared, 'enough points fell inside image pixels').toBeGreaterThanOrEqual(10);
  expect(worst, 'displayed grey within 1 level of resight render').toBeLessThanOrEqual(1);

  // The probe reads the stored value under the mouse.
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + g.ox + 320.5 * g.s, box.y + g.oy + 320.5 * g.s);
  await expect(page.getByTestId('probe')).toContainText('(320, 320) stored');

  // Left-drag window/level: the readout and the pixels change; Reset window restores both.
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 - 150, box.y + box.height / 2 + 40, { steps: 8 });
  await page.mouse.up();
  await expect(readout).not.toHaveText('W 3200 · L 2095');
  await page.mouse.move(0, 0);
  expect(changedFraction(shown, await canvasPixels(canvas, 'viewer-cr-windowed.png'))).toBeGreaterThan(0.05);
  await page.getByRole('button', { name: 'Reset window' }).click();
  await expect(readout).toHaveText('W 3200 · L 2095');

  // Right-drag up zooms in; middle-drag pans; Fit brings the whole image back.
  const cxm = box.x + box.width / 2;
  const cym = box.y + box.height / 2;
  const scaleAtFit = Number(await canvas.getAttribute('data-scale'));
  await page.mouse.move(cxm, cym);
  await page.mouse.down({ button: 'right' });
  await page.mouse.move(cxm, cym - 150, { steps: 6 });
  await page.mouse.up({ button: 'right' });
  await expect(page.getByTestId('zoom-readout')).toContainText('Zoom 200%');
  expect(Number(await canvas.getAttribute('data-scale'))).toBeCloseTo(scaleAtFit * 2, 2);
  await page.mouse.move(0, 0);
  const zoomed = await canvasPixels(canvas, 'viewer-cr-zoomed.png');
  await page.mouse.move(cxm, cym);
  await page.mouse.down({ button: 'middle' });
  await page.mouse.move(cxm + 80, cym + 30, { steps: 5 });
  await page.mouse.up({ button: 'middle' });
  await page.mouse.move(0, 0);
  const panned = await canvasPixels(canvas, 'viewer-cr-panned.png');
  expect(changedFraction(zoomed, panned), 'panning moves the image').toBeGreaterThan(0.05);
  // Panned by (80, 30) CSS px: what was at a point is now 80 px right and 30 px down.
  let matched = 0;
  for (const [x, y] of [[300, 200], [400, 300], [350, 420]] as const) {
    const a = (y * zoomed.width + x) * 3;
    const b = ((y + 30) * panned.width + (x + 80)) * 3;
    if (Math.abs((zoomed.data[a] as number) - (panned.data[b] as number)) <= 2) matched++;
  }
  expect(matched).toBe(3);
  await page.getByTestId('fit').click();
  await expect(page.getByTestId('zoom-readout')).toContainText('Zoom 100%');

  // A length across the calibrated CR: 440 image pixels along a row, within 1% of the true mm.
  await page.getByTestId('tool-length').click();
  const [x0, x1, y] = [100.5, 540.5, 300.5];
  await page.mouse.move(box.x + g.ox + x0 * g.s, box.y + g.oy + y * g.s);
  await page.mouse.down();
  await page.mouse.move(box.x + g.ox + x1 * g.s, box.y + g.oy + y * g.s, { steps: 8 });
  await page.mouse.up();
  const text = await page.getByTestId('measurement-text-1').innerText();
  const mm = Number(/([\d.]+) mm/.exec(text)?.[1]);
  const truth = (x1 - x0) * CR_SPACING_MM;
  expect(Math.abs(mm - truth) / truth, `${text} vs ${truth.toFixed(1)} mm`).toBeLessThan(0.01);
  expect(text).toContain('Imager Pixel Spacing');
  await page.screenshot({ path: join(SHOTS, 'viewer-cr-length.png') });

  // A rectangle ROI's mean and SD agree with the modality values `resight decode` writes.
  const npy = join(work, 'cr-modality.npy');
  execFileSync(process.execPath, [CLI, 'decode', join(APP_ROOT, 'assets/samples', CR), '--stage', 'modality', '--out', npy]);
  const raw = readFileSync(npy);
  const headerLen = raw.readUInt16LE(8);
  expect(raw.subarray(10, 10 + headerLen).toString('latin1')).toContain("'<f4'");
  const modality = new Float32Array(raw.buffer.slice(raw.byteOffset + 10 + headerLen, raw.byteOffset + raw.length));
  const roi: number[] = [];
  for (let r = 200; r < 260; r++) for (let c = 200; c < 300; c++) roi.push(modality[r * CR_SIZE + c] as number);
  const mean = roi.reduce((a, b) => a + b, 0) / roi.length;
  const sd = Math.sqrt(roi.reduce((a, b) => a + (b - mean) ** 2, 0) / (roi.length - 1));
  await page.getByTestId('tool-rectangle').click();
  await page.mouse.move(box.x + g.ox + 200 * g.s, box.y + g.oy + 200 * g.s);
  await page.mouse.down();
  await page.mouse.move(box.x + g.ox + 300 * g.s, box.y + g.oy + 260 * g.s, { steps: 6 });
  await page.mouse.up();
  const roiText = await page.getByTestId('measurement-text-2').innerText();
  const shownMean = Number(/mean ([\d.-]+)/.exec(roiText)?.[1]);
  const shownSd = Number(/SD ([\d.]+)/.exec(roiText)?.[1]);
  // The drag ends land within a fraction of a pixel of the corners: allow one row or column either way.
  expect(Math.abs(shownMean - mean) / mean, `${roiText} vs mean ${mean.toFixed(1)}`).toBeLessThan(0.02);
  expect(Math.abs(shownSd - sd) / sd, `${roiText} vs SD ${sd.toFixed(1)}`).toBeLessThan(0.05);
  expect(roiText).toContain('mm²');

  // The cardiothoracic ratio of two horizontal widths, 200 and 500 image pixels.
  await page.keyboard.press('t');
  for (const [a, b, yy] of [[220, 420, 380], [70, 570, 450]] as const) {
    await page.mouse.move(box.x + g.ox + a * g.s, box.y + g.oy + yy * g.s);
    await page.mouse.down();
    await page.mouse.move(box.x + g.ox + b * g.s, box.y + g.oy + yy * g.s, { steps: 6 });
    await page.mouse.up();
  }
  const ctr = Number(/CTR ([\d.]+)/.exec(await page.getByTestId('measurement-text-3').innerText())?.[1]);
  expect(ctr).toBeCloseTo(0.4, 2);
  await page.screenshot({ path: join(SHOTS, 'viewer-cr-measurements.png') });
  await page.keyboard.press('w');

  // Rotate and flip move the pixels without a re-upload; reset view brings them back.
  await page.mouse.move(0, 0);
  const before = await canvasPixels(canvas);
  await page.keyboard.press('r');
  await expect(page.getByTestId('zoom-readout')).toContainText('90°');
  expect(changedFraction(before, await canvasPixels(canvas, 'viewer-cr-rotated.png'))).toBeGreaterThan(0.05);
  await page.keyboard.press('0');
  await expect(page.getByTestId('zoom-readout')).toHaveText('Zoom 100%');

  // The help overlay lists the actions; Escape closes it.
  await page.keyboard.press('?');
  await expect(page.getByTestId('help')).toContainText('Flip horizontally');
  await page.screenshot({ path: join(SHOTS, 'viewer-help.png') });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('help')).toHaveCount(0);

  // The tag browser finds the spacing attribute by name.
  await page.getByTestId('tags-open').click();
  await page.getByTestId('tag-search').fill('imager pixel');
  await expect(page.getByTestId('tag-browser')).toContainText('0.671875');
  await page.keyboard.press('Escape');
});

test('heatmap: toggle, opacity, method chooser; the model badge names the provider', async ({ page }) => {
  await page.goto(server.url);
  const canvas = await open(page, CR);
  await page.getByTestId('run-model').click();
  await expect(page.getByTestId('top-finding').or(page.getByTestId('notice')).first()).toBeVisible({ timeout: 60_000 });
  await expect(canvas).toHaveAttribute('data-heatmap', 'shown');
  await expect(page.getByTestId('model-provider')).toHaveText(/cpu|webgpu|cuda|dml|coreml/i);
  await expect(page.getByTestId('heatmap-label')).toContainText('Grad-CAM');
  await page.mouse.move(0, 0);
  const withHeat = await canvasPixels(canvas, 'viewer-heatmap.png');

  await page.getByTestId('heatmap-opacity').fill('1');
  const opaque = await canvasPixels(canvas, 'viewer-heatmap-opaque.png');
  expect(changedFraction(withHeat, opaque), 'opacity changes the blend').toBeGreaterThan(0.01);

  await page.keyboard.press('o');
  await expect(canvas).toHaveAttribute('data-heatmap', 'hidden');
  expect(changedFraction(opaque, await canvasPixels(canvas))).toBeGreaterThan(0.01);
  await page.keyboard.press('o');
  await expect(canvas).toHaveAttribute('data-heatmap', 'shown');

  // Occlusion takes many forward passes: its progress shows, and Cancel stops it and keeps the map.
  // Cancel is pressed from inside the page at the first progress report from the backend (the
  // request is known there by then), so a fast machine cannot finish before the test clicks.
  await page.evaluate(() => {
    new MutationObserver((_, obs) => {
      const progress = document.querySelector('[data-testid="cam-progress"]');
      if (!progress || / \/ 1$/.test(progress.textContent?.replace('Cancel', '').trim() ?? '')) return;
      obs.disconnect();
      (document.querySelector('[data-testid="cam-cancel"]') as HTMLButtonElement).click();
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId('cam-method').selectOption('occlusion');
  await expect(page.getByTestId('cam-progress')).toHaveCount(0);
  await expect(page.getByTestId('notice')).toContainText('Occlusion cancelled');
  await expect(page.getByTestId('cam-method')).toHaveValue('gradcam');
  await expect(page.getByTestId('heatmap-label')).toContainText('Grad-CAM');

  await page.getByTestId('cam-method').selectOption('eigencam');
  await expect(page.getByTestId('heatmap-label')).toContainText('Eigen-CAM');
  await page.getByTestId('contour').click();
  await page.screenshot({ path: join(SHOTS, 'viewer-eigencam-contour.png') });
  await page.getByTestId('layout').selectOption('methods');
  await expect(page.getByTestId('image-canvas-2')).toHaveAttribute('data-heatmap', 'shown');
  // The right pane shows another method than the left one.
  await expect(page.getByTestId('heatmap-label-2')).toContainText('Grad-CAM');
  await page.screenshot({ path: join(SHOTS, 'viewer-two-methods.png') });
});

test('multi-frame stack: the wheel and the arrow keys scroll frames', async ({ page }) => {
  const dir = join(work, 'fixtures');
  mkdirSync(dir, { recursive: true });
  execFileSync('/usr/bin/python3', [join(__dirname, '..', 'main/imaging/testdata/fixtures.py'), 'make', dir]);
  await page.goto(server.url);
  await page.getByLabel('File on this computer').fill(join(dir, 'multi.dcm'));
  await page.getByLabel('File on this computer').press('Enter');
  const canvas = page.getByTestId('image-canvas');
  await expect(canvas).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);
  await expect(page.getByTestId('frame-readout')).toHaveText('Frame 1 / 3');
  await page.mouse.move(0, 0);
  const first = await canvasPixels(canvas, 'viewer-multiframe-1.png');
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, 120);
  await expect(page.getByTestId('frame-readout')).toHaveText('Frame 2 / 3');
  await expect(canvas).toHaveAttribute('data-frame', '1');
  // The path field kept the keyboard; the reader moves to the image.
  await canvas.focus();
  await page.mouse.move(0, 0);
  expect(changedFraction(first, await canvasPixels(canvas, 'viewer-multiframe-2.png'))).toBeGreaterThan(0.05);
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('frame-readout')).toHaveText('Frame 3 / 3');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('frame-readout')).toHaveText('Frame 1 / 3');
  await page.getByTestId('cine').click();
  await expect(page.getByTestId('frame-readout')).not.toHaveText('Frame 1 / 3');
  await page.getByTestId('cine').click();
});

test('a large JPEG 2000 film draws the level decoded on opening, then the view\'s own level, then every pixel', async ({ page }) => {
  const dir = join(work, 'j2k-large');
  mkdirSync(dir, { recursive: true });
  const raw = join(dir, 'raw.dcm');
  const j2k = join(dir, 'large-j2k.dcm');
  execFileSync('/usr/bin/python3', [join(APP_ROOT, 'main/imaging/testdata/fixtures.py'), 'big', raw, '3000', '2500']);
  execFileSync('gdcmconv', ['--j2k', raw, j2k]);
  await page.setViewportSize({ width: 1000, height: 700 });
  await page.goto(server.url);
  // The view's level and the full frame are held back in turn, so each stage is seen, not raced.
  let releaseView: () => void = () => undefined;
  let releaseFull: () => void = () => undefined;
  const viewHeld = new Promise<void>((r) => (releaseView = r));
  const fullHeld = new Promise<void>((r) => (releaseFull = r));
  const opened: { width: number; height: number }[] = [];
  await page.route('**/api/studies.openFile', async (route) => {
    const response = await route.fetch();
    opened.push(((await response.json()) as { value: { firstFrame: { width: number; height: number } } }).value.firstFrame);
    await route.fulfill({ response });
  });
  await page.route('**/api/studies.getFrame', async (route) => {
    const body = route.request().postDataJSON() as { target?: { width: number; height: number } };
    if (!body.target) await fullHeld;
    else if (body.target.width !== opened[0]?.width) await viewHeld;
    await route.continue();
  });
  await page.getByLabel('File on this computer').fill(j2k);
  await page.getByLabel('File on this computer').press('Enter');
  const canvas = page.getByTestId('image-canvas');
  // 2,500 × 3,000 has resolution levels of 1,250 × 1,500, 625 × 750 and 313 × 375; this view needs the second.
  await expect(canvas).toHaveAttribute('data-texture', '313x375');
  await expect(canvas).toHaveAttribute('data-resolution', 'reduced');
  const windowText = await page.getByTestId('window-readout').textContent();
  releaseView();
  await expect(canvas).toHaveAttribute('data-texture', '625x750');
  releaseFull();
  await expect(canvas).toHaveAttribute('data-texture', '2500x3000');
  await expect(canvas).toHaveAttribute('data-resolution', 'full');
  await expect(page.getByTestId('window-readout')).toHaveText(windowText!);
});

test('progressive display: a reduced frame first, then the full one swapped in with the window and view kept', async ({ page }) => {
  // A view smaller than the 640 px CR, so the first request asks for less than the whole frame.
  await page.setViewportSize({ width: 1000, height: 700 });
  await page.goto(server.url);
  // The full frame is held back until released, so the reduced one is seen on screen, not raced.
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const targets: { width: number; height: number }[] = [];
  let fullRequests = 0;
  await page.route('**/api/studies.getFrame', async (route) => {
    const body = route.request().postDataJSON() as { target?: { width: number; height: number } };
    if (body.target) {
      targets.push(body.target);
    } else {
      fullRequests++;
      await held;
    }
    await route.continue();
  });
  const canvas = await open(page, CR);
  await expect(canvas).toHaveAttribute('data-resolution', 'reduced');
  const size = await canvas.evaluate((c: HTMLCanvasElement) => ({ width: c.width, height: c.height }));
  const g = fit(size.width, size.height, CR_SIZE, CR_SIZE);
  // The request asked for what the view shows at fit: one texel per device pixel (less 5% slack).
  expect(targets).toEqual([{ width: Math.ceil(CR_SIZE * g.s * 0.95), height: Math.ceil(CR_SIZE * g.s * 0.95) }]);
  const readout = page.getByTestId('window-readout');
  await expect(readout).toHaveText('W 3200 · L 2095');
  await page.mouse.move(0, 0);
  const reduced = await canvasPixels(canvas, 'viewer-progressive-reduced.png');
  expect(changedFraction(reduced, { ...reduced, data: Buffer.alloc(reduced.data.length, 11) }), 'the reduced frame is drawn').toBeGreaterThan(0.3);

  // The probe reads full-image coordinates and says the value comes from the preview.
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + g.ox + 320.5 * g.s, box.y + g.oy + 320.5 * g.s);
  const probe = page.getByTestId('probe');
  await expect(probe).toContainText('(320, 320) stored ≈');
  await expect(probe).toHaveAttribute('data-resolution', 'reduced');

  // Zooming past what the reduced frame holds asks for the full one, which is already on its way.
  const cxm = box.x + box.width / 2;
  const cym = box.y + box.height / 2;
  await page.mouse.move(cxm, cym);
  await page.mouse.down({ button: 'right' });
  await page.mouse.move(cxm, cym - 150, { steps: 6 });
  await page.mouse.up({ button: 'right' });
  await expect(page.getByTestId('zoom-readout')).toContainText('Zoom 200%');
  const scale = await canvas.getAttribute('data-scale');
  expect(fullRequests).toBe(1);

  release();
  await expect(canvas).toHaveAttribute('data-resolution', 'full');
  await expect(readout).toHaveText('W 3200 · L 2095');
  await expect(page.getByTestId('zoom-readout')).toContainText('Zoom 200%');
  expect(await canvas.getAttribute('data-scale')).toBe(scale);
  await expect(probe).toHaveAttribute('data-resolution', 'full');
  await expect(probe).toContainText(/\(320, 320\) stored \d/);
  expect(fullRequests).toBe(1);
  await canvasPixels(canvas, 'viewer-progressive-full.png');
});
