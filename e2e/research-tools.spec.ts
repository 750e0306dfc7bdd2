// Runs under Playwright (Node) against browser mode: the researcher's tools end to end. Settings
// persist across a reload; a bundle export after a model run; batch reviews over folders, one
// paused, carried over a server restart and resumed; the PACS browser against a real Orthanc
// (search, open, send the result back, review picked studies as a batch) and its error display.
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { orthancAvailable, orthancGet, startOrthanc, uploadToOrthanc, type OrthancServer } from '../main/testing/orthanc';
import { APP_ROOT, SHOTS, startServer, type Server } from './support';

const SAMPLES = join(APP_ROOT, 'assets/samples');
/** The sample radiographs themselves: not their masks. */
const SAMPLE_PNGS = readdirSync(SAMPLES).filter((f) => f.endsWith('.png') && !f.includes('.mask'));

// A missing control fails fast instead of waiting out the whole test.
test.use({ actionTimeout: 20_000 });

/** A data folder and the server on it, both gone after the test. */
async function withServer(name: string, fn: (ctx: { dataDir: string; server: Server; restart(): Promise<Server> }) => Promise<void>) {
  mkdirSync(SHOTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), `resight-e2e-${name}-`));
  let server = await startServer(dataDir);
  try {
    await fn({
      dataDir,
      server,
      restart: async () => {
        await server.stop();
        server = await startServer(dataDir);
        return server;
      },
    });
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function openTab(page: Page, tab: 'review' | 'research' | 'pacs' | 'batch' | 'settings') {
  await page.getByTestId(`tab-${tab}`).click();
  await expect(page.getByTestId(`tab-${tab}`)).toHaveAttribute('aria-selected', 'true');
}

/** n radiographs with distinct bytes (one pixel differs), so each is its own case to the store. */
async function imageFolder(n: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'resight-e2e-images-'));
  for (let i = 0; i < n; i++) {
    const src = join(SAMPLES, SAMPLE_PNGS[i % SAMPLE_PNGS.length]!);
    const { data, info } = await sharp(src).greyscale().raw().toBuffer({ resolveWithObject: true });
    data[0] = i;
    await sharp(data, { raw: info }).png().toFile(join(dir, `case-${String(i).padStart(2, '0')}.png`));
  }
  return dir;
}

/** The job's "done / total" as numbers. */
async function counts(page: Page): Promise<[number, number]> {
  const text = (await page.getByTestId('batch-job').first().getByTestId('batch-count').textContent()) ?? '';
  const m = /(\d+) \/ (\d+)/.exec(text);
  expect(m, `batch count "${text}"`).not.toBeNull();
  return [Number(m![1]), Number(m![2])];
}

test('settings: provider, threads and frame cache persist across a reload; models and PACS servers', async ({ page }) => {
  await withServer('settings', async ({ server }) => {
    await page.goto(server.url);
    await openTab(page, 'settings');
    await expect(page.getByTestId('settings-save')).toBeEnabled();
    // The active model is named with its version and notice.
    await expect(page.getByTestId('settings-models').getByTestId('model-active')).toHaveCount(1);
    await expect(page.getByTestId('settings-models')).toContainText('resnet18-cxr-phantom');
    await expect(page.getByTestId('settings-models')).toContainText('not for clinical use');

    // A bad number is refused before it is sent.
    await page.getByTestId('settings-frame-cache').fill('12');
    await expect(page.getByTestId('settings-save')).toBeDisabled();
    await page.getByTestId('settings-provider').selectOption('cpu');
    await page.getByTestId('settings-threads').fill('2');
    await page.getByTestId('settings-frame-cache').fill('512');
    await page.getByTestId('settings-save').click();
    await expect(page.getByTestId('settings-saved')).toBeVisible();
    // The badge names what is asked for until a run says what was used.
    await expect(page.getByTestId('model-provider')).toContainText('cpu');

    await page.reload();
    await openTab(page, 'settings');
    await expect(page.getByTestId('settings-provider')).toHaveValue('cpu');
    await expect(page.getByTestId('settings-threads')).toHaveValue('2');
    await expect(page.getByTestId('settings-frame-cache')).toHaveValue('512');

    // Blank means the default again, and stays blank.
    await page.getByTestId('settings-frame-cache').fill('');
    await page.getByTestId('settings-threads').fill('');
    await page.getByTestId('settings-save').click();
    await expect(page.getByTestId('settings-saved')).toBeVisible();
    await page.reload();
    await openTab(page, 'settings');
    await expect(page.getByTestId('settings-provider')).toHaveValue('cpu');
    await expect(page.getByTestId('settings-frame-cache')).toHaveValue('');
    await expect(page.getByTestId('settings-threads')).toHaveValue('');

    // Nor can it encrypt the database: the section says why and offers nothing to press.
    await expect(page.getByTestId('encryption-state')).toContainText('not encrypted');
    await expect(page.getByTestId('encryption-unavailable')).toBeVisible();
    await expect(page.getByTestId('encryption-toggle')).toBeDisabled();

    // Browser mode has no keychain: a password is refused with the backend's own sentence.
    await page.getByTestId('server-add').click();
    await page.getByTestId('server-name').fill('Hospital PACS');
    await page.getByTestId('server-url').fill('http://127.0.0.1:9/dicom-web');
    await page.getByTestId('server-auth').selectOption('basic');
    await page.getByTestId('server-user').fill('reader');
    await page.getByTestId('server-secret').fill('secret-password');
    await page.getByTestId('server-save').click();
    await expect(page.getByTestId('server-error')).toContainText('no secure storage for passwords');
    await expect(page.getByTestId('server-list').locator('li[data-testid^="server-"]')).toHaveCount(0);
    // Without credentials it is kept; the secret field is never filled from what is stored.
    await page.getByTestId('server-auth').selectOption('none');
    await page.getByTestId('server-save').click();
    await expect(page.getByTestId('server-list')).toContainText('Hospital PACS');
    await page.getByTestId('server-list').getByRole('button', { name: 'Edit Hospital PACS' }).click();
    await page.getByTestId('server-auth').selectOption('bearer');
    await expect(page.getByTestId('server-secret')).toHaveValue('');
    await page.screenshot({ path: join(SHOTS, 'research-settings.png') });
  });
});

test('export: a case-review bundle after a model run, de-identified unless confirmed', async ({ page }) => {
  await withServer('export', async ({ dataDir, server }) => {
    await page.goto(server.url);
    await page.getByTestId('sample-cxr-effusion-8bit.png').click();
    await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);
    await page.getByTestId('run-model').click();
    await expect(page.getByTestId('top-finding')).toBeVisible({ timeout: 60_000 });
    // This DICOM says BurnedInAnnotation YES: left out by default, with its reason.
    await page.getByTestId('sample-cxr-opacity-dx.dcm').click();
    await expect(page.getByTestId('top-finding')).toHaveCount(0);
    await page.getByTestId('run-model').click();
    await expect(page.getByTestId('top-finding')).toBeVisible({ timeout: 60_000 });

    await openTab(page, 'research');
    await expect(page.getByTestId('export-deidentify')).toBeChecked();
    // Turning de-identification off asks first; declining keeps it on.
    await page.getByTestId('export-deidentify').click();
    await expect(page.getByTestId('export-identified-confirm')).toBeVisible();
    await expect(page.getByTestId('export-run')).toBeDisabled();
    await page.getByTestId('export-identified-no').click();
    await expect(page.getByTestId('export-deidentify')).toBeChecked();
    await expect(page.getByTestId('export-identified')).toHaveCount(0);
    await page.getByTestId('export-burned-in').check();
    await expect(page.getByTestId('export-burned-in-warning')).toBeVisible();
    await page.getByTestId('export-burned-in').uncheck();

    await page.getByTestId('export-path').fill('relative.zip');
    await expect(page.getByTestId('export-run')).toBeDisabled();
    const out = join(dataDir, 'exports', 'review.zip');
    mkdirSync(join(dataDir, 'exports'));
    await page.getByTestId('export-path').fill(out);
    await page.getByTestId('export-run').click();
    await expect(page.getByTestId('export-summary')).toBeVisible({ timeout: 60_000 });
    expect(Number(await page.getByTestId('export-cases').textContent())).toBeGreaterThanOrEqual(1);
    await expect(page.getByTestId('export-excluded').locator('li')).toHaveCount(1);
    await expect(page.getByTestId('export-excluded')).toContainText(/burned-in/i);
    await expect(page.getByTestId('export-excluded')).not.toContainText('PHANTOM');
    expect(existsSync(out) && statSync(out).size > 0).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'research-export.png') });

    // The same path again: the backend never overwrites, and its sentence is shown.
    await page.getByTestId('export-run').click();
    await expect(page.getByTestId('export-error')).toContainText('never overwrites');
  });
});

test('batch review: a folder of 3 images finishes with 3 done and its results', async ({ page }) => {
  const folder = mkdtempSync(join(tmpdir(), 'resight-e2e-batch3-'));
  for (const name of SAMPLE_PNGS.slice(0, 3)) copyFileSync(join(SAMPLES, name), join(folder, name));
  try {
    await withServer('batch', async ({ server }) => {
      await page.goto(server.url);
      await openTab(page, 'batch');
      await page.getByTestId('batch-folder').fill(folder);
      await page.getByTestId('batch-cam').selectOption('gradcampp');
      await page.getByTestId('batch-start').click();
      const job = page.getByTestId('batch-job').first();
      await expect(job).toHaveAttribute('data-state', 'finished', { timeout: 120_000 });
      await expect(job.getByTestId('batch-count')).toHaveText('3 / 3');
      await expect(job.getByTestId('batch-failed')).toHaveText('0 failed');
      const outDir = (await job.getByTestId('batch-outdir').textContent()) ?? '';
      const bundle = (await job.getByTestId('batch-bundle').textContent()) ?? '';
      expect(existsSync(join(outDir, 'results.csv'))).toBe(true);
      expect(existsSync(bundle)).toBe(true);
      await page.screenshot({ path: join(SHOTS, 'research-batch.png') });
      // The reviewed images are cases now, ready for readers.
      await page.getByTestId('tab-worklist').click();
      for (const name of SAMPLE_PNGS.slice(0, 3)) await expect(page.getByTestId(`case-${name}`)).toBeVisible();
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('batch review: pause mid-way, still paused after a restart, resume to the end', async ({ page }) => {
  test.setTimeout(300_000);
  // On the CPU provider the model takes 8 images at a time: pausing lands between batches.
  const folder = await imageFolder(24);
  try {
    await withServer('pause', async ({ server, restart }) => {
      await page.goto(server.url);
      await openTab(page, 'settings');
      await page.getByTestId('settings-provider').selectOption('cpu');
      await page.getByTestId('settings-save').click();
      await expect(page.getByTestId('settings-saved')).toBeVisible();

      await openTab(page, 'batch');
      await page.getByTestId('batch-folder').fill(folder);
      await page.getByTestId('batch-start').click();
      const job = page.getByTestId('batch-job').first();
      await expect(job).toHaveAttribute('data-state', 'running');
      await job.getByTestId('batch-pause').click();
      await expect(job).toHaveAttribute('data-state', 'paused', { timeout: 120_000 });
      const [pausedAt, total] = await counts(page);
      expect(pausedAt).toBeLessThan(total);
      await expect(job.getByTestId('batch-resume')).toBeVisible();

      // A restart keeps the job paused where it stopped.
      const next = await restart();
      await page.goto(next.url);
      await openTab(page, 'batch');
      await expect(job).toHaveAttribute('data-state', 'paused');
      await job.getByTestId('batch-resume').click();
      await expect(job).toHaveAttribute('data-state', /running|finished/);
      await expect(job).toHaveAttribute('data-state', 'finished', { timeout: 240_000 });
      const [done, all] = await counts(page);
      expect(all).toBe(24);
      expect(done).toBe(all);
      await expect(job.getByTestId('batch-failed')).toHaveText('0 failed');
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

/**
 * A PACS that answers study searches (from Orthanc) and never answers anything else, so a
 * retrieval from it stays in progress until it is cancelled.
 */
async function stallingPacs(orthanc: OrthancServer): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (!/^\/dicom-web\/studies(\?|$)/.test(req.url ?? '')) return;
    void fetch(`${orthanc.rest}${req.url}`, { headers: { accept: req.headers.accept ?? 'application/dicom+json' } }).then(async (answer) => {
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/dicom+json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dicom-web/`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

test.describe('PACS browser against Orthanc', () => {
  test.skip(!orthancAvailable(), 'Orthanc and its DICOMweb plugin are not installed (apt-get install orthanc orthanc-dicomweb); CI runs these');
  let orthanc: OrthancServer;
  test.beforeAll(async () => {
    // Browser mode cannot keep credentials, so this Orthanc asks for none.
    orthanc = await startOrthanc({ auth: false });
    // The samples say BurnedInAnnotation YES, which a batch's bundle leaves out; this copy says NO
    // so the batch over it has a case to bundle.
    const dir = mkdtempSync(join(tmpdir(), 'resight-e2e-pacs-'));
    const file = join(dir, 'study.dcm');
    copyFileSync(join(SAMPLES, 'cxr-opacity-dx.dcm'), file);
    execFileSync('dcmodify', ['-nb', '-m', '(0028,0301)=NO', file]);
    await uploadToOrthanc(orthanc, [readFileSync(file)]);
    rmSync(dir, { recursive: true, force: true });
  });
  test.afterAll(async () => {
    await orthanc?.stop();
  });

  test('search, open a study, send the result back, review picked studies as a batch; errors shown', async ({ page }) => {
    test.setTimeout(300_000);
    const stalling = await stallingPacs(orthanc);
    try {
      await withServer('pacs', async ({ server }) => {
        await page.goto(server.url);
        await openTab(page, 'pacs');
        await page.getByTestId('pacs-to-settings').click();
        await expect(page.getByTestId('tab-settings')).toHaveAttribute('aria-selected', 'true');
        for (const [name, url] of [
          ['Unreachable', 'http://127.0.0.1:9/dicom-web'],
          ['Stalling', stalling.url],
          ['Orthanc', orthanc.url],
        ] as const) {
          await page.getByTestId('server-add').click();
          await page.getByTestId('server-name').fill(name);
          await page.getByTestId('server-url').fill(url);
          await page.getByTestId('server-save').click();
          await expect(page.getByTestId('server-list')).toContainText(name);
        }

        // A server that does not answer: the sentence is shown in the panel.
        await openTab(page, 'pacs');
        await page.getByTestId('pacs-server').selectOption({ label: 'Unreachable' });
        await page.getByTestId('pacs-search').click();
        await expect(page.getByTestId('pacs-error')).toBeVisible({ timeout: 60_000 });

        // A retrieval that does not come: progress shows, Cancel stops it, the viewer stays as it was.
        await page.getByTestId('pacs-server').selectOption({ label: 'Stalling' });
        await expect(page.getByTestId('pacs-error')).toHaveCount(0);
        await page.getByTestId('pacs-search').click();
        await expect(page.getByTestId('pacs-study')).toHaveCount(1);
        await page.getByTestId('pacs-open').click();
        await expect(page.getByTestId('pacs-progress')).toBeVisible();
        await expect(page.getByTestId('pacs-open')).toBeDisabled();
        await page.getByTestId('pacs-cancel').click();
        await expect(page.getByTestId('notice')).toContainText('Retrieval cancelled.');
        await expect(page.getByTestId('pacs-progress')).toHaveCount(0);
        await expect(page.getByTestId('pacs-error')).toHaveCount(0);
        await expect(page.getByTestId('tab-pacs')).toHaveAttribute('aria-selected', 'true');
        await expect(page.getByTestId('image-canvas')).not.toHaveAttribute('data-image-id', /./);

        await page.getByTestId('pacs-server').selectOption({ label: 'Orthanc' });
        // Nothing matches an ID that is not there.
        await page.getByTestId('pacs-patientId').fill('NOBODY');
        await page.getByTestId('pacs-search').click();
        await expect(page.getByTestId('pacs-results')).toBeVisible();
        await expect(page.getByTestId('pacs-study')).toHaveCount(0);
        await page.getByTestId('pacs-patientId').fill('PHANTOM-100-000001');
        await page.getByTestId('pacs-modality').fill('dx');
        await page.getByTestId('pacs-dateFrom').fill('2026-01-01');
        await page.getByTestId('pacs-dateTo').fill('2026-01-31');
        await page.getByTestId('pacs-search').click();
        const row = page.getByTestId('pacs-study');
        await expect(row).toHaveCount(1);
        await expect(row).toContainText('PHANTOM CXR002');
        await expect(row).toContainText('2026-01-02');
        await expect(row).toContainText('DX');
        await expect(page.getByTestId('pacs-prev')).toBeDisabled();
        await expect(page.getByTestId('pacs-next')).toBeDisabled();
        await page.screenshot({ path: join(SHOTS, 'research-pacs.png') });

        // Picked studies go to a batch review (before anything else is stored in the study).
        await row.getByTestId('pacs-select').check();
        await page.getByTestId('pacs-review-selected').click();
        await expect(page.getByTestId('tab-batch')).toHaveAttribute('aria-selected', 'true');
        const job = page.getByTestId('batch-job').first();
        await expect(job).toHaveAttribute('data-state', 'finished', { timeout: 120_000 });
        await expect(job.getByTestId('batch-count')).toHaveText('1 / 1');
        await expect(job).toContainText('PACS');

        // The results stay in the PACS tab; open the study from there.
        await openTab(page, 'pacs');
        await expect(row).toHaveCount(1);

        // Open: retrieved into the cache, its image in the viewer, the review beside it.
        await row.getByTestId('pacs-open').click();
        await expect(page.getByTestId('tab-review')).toHaveAttribute('aria-selected', 'true', { timeout: 60_000 });
        await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);

        // The model's result goes back to the PACS as an SR (and the heatmap as an image).
        await page.getByTestId('run-model').click();
        await expect(page.getByTestId('top-finding')).toBeVisible({ timeout: 60_000 });
        await expect(page.getByTestId('model-badge')).toContainText('resnet18-cxr-phantom');
        const before = ((await orthancGet(orthanc, '/instances')) as unknown[]).length;
        await page.getByTestId('send-to-pacs').locator('summary').click();
        await page.getByTestId('send-server').selectOption({ label: 'Orthanc' });
        await page.getByTestId('send-result').click();
        await expect(page.getByTestId('send-outcome')).toContainText('Stored: SR', { timeout: 60_000 });
        await expect(page.getByTestId('send-outcome')).not.toContainText('Failed');
        await page.screenshot({ path: join(SHOTS, 'research-send-to-pacs.png') });
        expect(((await orthancGet(orthanc, '/instances')) as unknown[]).length).toBeGreaterThan(before);
      });
    } finally {
      await stalling.stop();
    }
  });
});
