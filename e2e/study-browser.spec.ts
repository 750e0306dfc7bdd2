// Runs under Playwright (Node) against browser mode: the study browser. A temporary folder of
// samples in nested folders (one CR series made two instances long with dcmodify, a PNG, and a
// file that is neither) is read by its path; its studies are listed, the chosen study's series
// thumbnails are drawn, a series opens, and the arrow keys and the wheel step through its instances.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_ROOT, SHOTS, startServer, type Server } from './support';

const SAMPLES = join(APP_ROOT, 'assets/samples');
let server: Server;
let work: string;
let folder: string;

test.beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'resight-browser-e2e-'));
  folder = join(work, 'incoming');
  const put = (sample: string, ...rel: string[]) => {
    const dir = join(folder, ...rel.slice(0, -1));
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(SAMPLES, sample), join(dir, rel[rel.length - 1] as string));
    return join(dir, rel[rel.length - 1] as string);
  };
  put('cxr-normal-cr.dcm', 'cxr001', 'study', 'IM0001');
  // The same series, a second instance: a new SOP Instance UID and Instance Number 2.
  const second = put('cxr-normal-cr.dcm', 'cxr001', 'study', 'IM0002');
  execFileSync('dcmodify', ['-nb', '-m', '(0008,0018)=1.2.826.0.1.3680043.8.498.1000000000000000000000000000000002', '-m', '(0020,0013)=2', second]);
  put('cxr-opacity-dx.dcm', 'cxr002', 'a', 'b', 'IM0001');
  put('cxr-cardiomegaly-effusion-cr.dcm', 'cxr003', 'IM0001.dcm');
  put('cxr-normal-8bit.png', 'other', 'normal.png');
  writeFileSync(join(folder, 'notes.txt'), 'not an image');
  server = await startServer(join(work, 'data'));
});

test.afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a folder read by path: studies listed, series thumbnails drawn, a series opened and stepped through', async ({ page }) => {
  await page.goto(server.url);
  await page.getByLabel('Folder or DICOMDIR').fill(folder);
  await page.getByTestId('browse-open').click();

  const rows = page.getByTestId('study-row');
  await expect(rows).toHaveCount(3);
  const cxr001 = rows.filter({ hasText: 'PHANTOM CXR001' });
  await expect(cxr001).toContainText('ID PHANTOM-100-000000');
  await expect(cxr001).toContainText('2026-01-01');
  await expect(cxr001).toContainText('CR');
  await expect(cxr001).toContainText('Chest PA (synthetic phantom)');
  await expect(rows.filter({ hasText: 'PHANTOM CXR002' })).toContainText('DX');
  await expect(page.getByTestId('raster-list')).toContainText('normal.png');
  await expect(page.getByTestId('browse-skipped')).toContainText('1 file was neither DICOM nor PNG/JPEG');

  // Keyboard: the study is a button; Enter shows its series.
  await cxr001.focus();
  await page.keyboard.press('Enter');
  await expect(cxr001).toHaveAttribute('aria-pressed', 'true');
  const series = page.getByTestId('series-0');
  await expect(series).toContainText('PA');
  await expect(series).toContainText('2 images');
  await expect(series).toHaveAttribute('aria-label', /Series 1 · CR · PA, 2 images: open/);

  // The thumbnail is drawn from studies.thumbnail: a canvas with more than one grey level.
  const thumb = series.getByTestId('series-thumbnail');
  await expect(thumb).toHaveAttribute('data-state', 'drawn');
  const spread = await thumb.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < d.length; i += 4) {
      lo = Math.min(lo, d[i] as number);
      hi = Math.max(hi, d[i] as number);
    }
    return { w: c.width, h: c.height, lo, hi };
  });
  expect(Math.max(spread.w, spread.h)).toBeGreaterThanOrEqual(64);
  expect(spread.hi - spread.lo, 'a thumbnail with content, not a blank canvas').toBeGreaterThan(64);
  await page.screenshot({ path: join(SHOTS, 'study-browser.png') });

  // Opening the series shows its first instance.
  await series.click();
  const canvas = page.getByTestId('image-canvas');
  await expect(canvas).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);
  await expect(series).toHaveAttribute('aria-current', 'true');
  await expect(page.getByTestId('instance-readout')).toHaveText('Image 1 / 2');
  await expect(page.getByTestId('overlay-patient')).toContainText('PHANTOM CXR001');
  const first = await canvas.getAttribute('data-image-id');

  // ↓ steps to the next instance of the series, keeping the window the reader set.
  await page.getByTestId('window-preset').selectOption('m2');
  const readout = page.getByTestId('window-readout');
  await expect(readout).toHaveText('W 2500 · L 480');
  const windowText = await readout.innerText();
  await canvas.focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('instance-readout')).toHaveText('Image 2 / 2');
  await expect(canvas).not.toHaveAttribute('data-image-id', first as string);
  await expect(canvas).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);
  await expect(readout).toHaveText(windowText);

  // The wheel steps back.
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -120);
  await expect(page.getByTestId('instance-readout')).toHaveText('Image 1 / 2');
  await expect(canvas).toHaveAttribute('data-image-id', first as string);
});
