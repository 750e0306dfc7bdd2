// Runs under Playwright (Node) against browser mode: starts the real server (dist/server/web.cjs)
// on a fresh data folder, drives Debian's Chromium through the UI, and checks what a reader sees:
// pixels on the canvas, findings, the heatmap, and feedback that survives a reload and a restart.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKEN_HEADER, type ModelSummary, type SampleEntry } from '../preload/api';
import { canvasPixels, changedFraction, SHOTS, startServer, type Pixels, type Server } from './support';

async function callApi<T>(server: Server, method: string, input: unknown = {}): Promise<T> {
  const res = await fetch(`${server.origin}/api/${method}`, {
    method: 'POST',
    headers: { [TOKEN_HEADER]: server.token, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const envelope = (await res.json()) as { ok: boolean; value?: T; error?: { message: string } };
  if (!envelope.ok) throw new Error(`${method}: ${envelope.error?.message ?? 'failed'}`);
  return envelope.value as T;
}

/** Standard deviation of luminance and the number of distinct colours. */
function pixelSummary(p: Pixels): { std: number; colours: number } {
  const n = p.width * p.height;
  let sum = 0;
  let sumSq = 0;
  const colours = new Set<number>();
  for (let i = 0; i < n; i++) {
    const r = p.data[i * 3] as number;
    const g = p.data[i * 3 + 1] as number;
    const b = p.data[i * 3 + 2] as number;
    const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    sum += y;
    sumSq += y * y;
    colours.add((r << 16) | (g << 8) | b);
  }
  const mean = sum / n;
  return { std: Math.sqrt(Math.max(0, sumSq / n - mean * mean)), colours: colours.size };
}

async function openSample(page: Page, name: string): Promise<Locator> {
  await page.getByTestId(`sample-${name}`).click();
  const canvas = page.getByTestId('image-canvas');
  await expect(page.getByTestId(`sample-${name}`)).toHaveAttribute('aria-current', 'true');
  await expect(canvas).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);
  return canvas;
}

/** Runs the model and waits for the findings; an error notice fails at once with its sentence. */
async function runModel(page: Page): Promise<void> {
  await page.getByTestId('run-model').click();
  const top = page.getByTestId('top-finding');
  const notice = page.getByTestId('notice');
  await expect(top.or(notice).first()).toBeVisible({ timeout: 60_000 });
  if (await notice.count()) throw new Error(`running the model failed: ${await notice.first().innerText()}`);
  await expect(top).toContainText('%');
}

async function expectDrawn(canvas: Locator, shot: string): Promise<Pixels> {
  const pixels = await canvasPixels(canvas, shot);
  const { std, colours } = pixelSummary(pixels);
  expect(colours, 'the canvas is more than one colour').toBeGreaterThan(16);
  expect(std, 'the canvas shows an image, not a flat fill').toBeGreaterThan(10);
  return pixels;
}

test.beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
});

let dataDir = '';
const servers: Server[] = [];

test.beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'resight-e2e-'));
});

test.afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function serve(): Promise<Server> {
  const server = await startServer(dataDir);
  servers.push(server);
  return server;
}

test('API requests without the token are refused and change nothing', async () => {
  const server = await serve();
  const samples = await callApi<SampleEntry[]>(server, 'studies.listSamples');
  const first = samples[0];
  expect(first, 'assets/samples has at least one sample').toBeDefined();
  const { imageId } = await callApi<{ imageId: string }>(server, 'studies.openSample', { name: first?.name });

  const post = (method: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.origin}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  expect((await post('app.info', {})).status).toBe(403);
  expect((await post('app.info', {}, { [TOKEN_HEADER]: '0'.repeat(server.token.length) })).status).toBe(403);
  expect((await post('feedback.save', { imageId, verdict: 'agree', note: 'forged' })).status).toBe(403);
  expect((await fetch(`${server.origin}/api/events`)).status).toBe(403);

  // The positive control: the same call with the token works, and the forged save left no trace.
  expect((await post('app.info', {}, { [TOKEN_HEADER]: server.token })).status).toBe(200);
  expect(await callApi(server, 'feedback.latest', { imageId })).toBeNull();
});

test('DICOM: view, window, run the model, heatmap, feedback that survives reload and restart', async ({ page }) => {
  let server = await serve();
  const samples = await callApi<SampleEntry[]>(server, 'studies.listSamples');
  const dicom = samples.find((s) => s.format === 'dicom');
  expect(dicom, 'assets/samples has a DICOM sample').toBeDefined();
  const sample = dicom?.name ?? '';
  const [model] = await callApi<ModelSummary[]>(server, 'models.list');
  expect(model, 'a model is installed').toBeDefined();

  await page.goto(server.url);
  await expect(page).toHaveTitle('Resight');
  await expect(page, 'the token leaves the address bar').not.toHaveURL(/token=/);
  await expect(page.getByTestId('sample-list')).toBeVisible();

  const canvas = await openSample(page, sample);
  await expect(canvas).toHaveAttribute('data-renderer', 'webgl2');
  const before = await expectDrawn(canvas, 'dicom-opened.png');

  // Left-drag changes window/level (a uniform, so the pixels change); Reset restores the file's.
  const readout = page.getByTestId('window-readout');
  const initialReadout = await readout.textContent();
  const box = await canvas.boundingBox();
  if (!box) throw new Error('the canvas has no box');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 - 120, box.y + box.height / 2 + 60, { steps: 6 });
  await page.mouse.up();
  await expect(readout).not.toHaveText(initialReadout ?? '');
  expect(changedFraction(before, await canvasPixels(canvas, 'dicom-windowed.png'))).toBeGreaterThan(0.05);
  await page.getByRole('button', { name: 'Reset window' }).click();
  await expect(readout).toHaveText(initialReadout ?? '');

  await expect(page.getByText('Decision support — not a diagnosis')).toBeVisible();
  await expect(page.getByText(model?.notice ?? '', { exact: true })).toBeVisible();
  if (model?.placeholder) await expect(page.getByText('UNTRAINED PLACEHOLDER MODEL')).toBeVisible();

  await runModel(page);
  const badge = page.getByTestId('model-badge');
  await expect(badge).toContainText(model?.id ?? '');
  await expect(badge).toContainText(model?.version ?? '');

  // The heatmap is on after a run; toggling it changes the pixels, and `o` brings it back.
  await expect(canvas).toHaveAttribute('data-heatmap', 'shown');
  await page.mouse.move(0, 0);
  const withHeat = await canvasPixels(canvas, 'dicom-heatmap.png');
  await page.getByTestId('heatmap-toggle').click();
  await expect(canvas).toHaveAttribute('data-heatmap', 'hidden');
  const withoutHeat = await canvasPixels(canvas);
  expect(changedFraction(withHeat, withoutHeat), 'the heatmap covers part of the image').toBeGreaterThan(0.01);
  await page.keyboard.press('o');
  await expect(canvas).toHaveAttribute('data-heatmap', 'shown');
  expect(changedFraction(withHeat, await canvasPixels(canvas))).toBeLessThan(0.001);
  await page.screenshot({ path: join(SHOTS, 'dicom-findings.png') });

  const note = `e2e note ${Date.now()}`;
  await page.getByTestId('verdict-disagree').click();
  await page.getByTestId('feedback-note').fill(note);
  await page.getByTestId('feedback-save').click();
  await expect(page.getByTestId('feedback-saved')).toContainText('Saved');
  await expect(page.getByTestId('feedback-saved')).toContainText('(version 1)');
  await page.screenshot({ path: join(SHOTS, 'dicom-feedback-saved.png') });

  const expectPersisted = async () => {
    await openSample(page, sample);
    await expect(page.getByTestId('verdict-disagree')).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('feedback-note')).toHaveValue(note);
    await expect(page.getByTestId('feedback-saved')).toContainText('(version 1)');
  };

  // A reload keeps the tab's token (sessionStorage) and finds the saved review.
  await page.reload();
  await expectPersisted();

  // A new server process on the same data folder: a new token, the same database.
  await server.stop();
  server = await serve();
  await page.goto(server.url);
  await expectPersisted();
  await page.screenshot({ path: join(SHOTS, 'dicom-after-restart.png') });
});

test('PNG: open, run the model; a bad path shows a notice', async ({ page }) => {
  const server = await serve();
  const samples = await callApi<SampleEntry[]>(server, 'studies.listSamples');
  const png = samples.find((s) => s.format === 'png');
  expect(png, 'assets/samples has a PNG sample').toBeDefined();
  expect((await callApi<ModelSummary[]>(server, 'models.list'))[0], 'a model is installed').toBeDefined();

  await page.goto(server.url);
  const canvas = await openSample(page, png?.name ?? '');
  await expectDrawn(canvas, 'png-opened.png');
  await runModel(page);
  await expect(canvas).toHaveAttribute('data-heatmap', 'shown');
  await page.screenshot({ path: join(SHOTS, 'png-findings.png') });

  await page.getByLabel('File on this computer').fill(join(dataDir, 'no-such-image.dcm'));
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  const notice = page.getByTestId('notice');
  await expect(notice).toBeVisible();
  await expect(notice).toContainText(/\w+ \w+/);
  // The image already open stays open.
  await expect(canvas).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);
});

test('the WebGL2 view shows the same grey values as the Canvas 2D path computed on the CPU', async ({ page }) => {
  const server = await serve();
  const samples = await callApi<SampleEntry[]>(server, 'studies.listSamples');
  const sample = samples.find((s) => s.format === 'dicom')?.name ?? '';
  expect(sample, 'assets/samples has a DICOM sample').not.toBe('');

  await page.goto(server.url);
  const glCanvas = await openSample(page, sample);
  await expect(glCanvas).toHaveAttribute('data-renderer', 'webgl2');
  const gpu = await canvasPixels(glCanvas);

  // Same tab, same server: the token is already kept; only the renderer differs.
  await page.goto(`${server.origin}/?renderer=canvas2d`);
  const cpuCanvas = await openSample(page, sample);
  await expect(cpuCanvas).toHaveAttribute('data-renderer', 'canvas2d');
  const cpu = await expectDrawn(cpuCanvas, 'dicom-canvas2d.png');
  // Nearest-neighbour sampling may pick the neighbouring pixel along a few edges; nothing more.
  expect(changedFraction(gpu, cpu)).toBeLessThan(0.02);
});
