// Runs under Playwright (Node) against browser mode: the readers' work end to end. A clinician
// agrees, disagrees and signs; an annotator labels three cases with the keyboard only and draws a
// box; a second annotator labels the same cases; kappa and the adjudication queue appear, the
// adjudicator records a final label; after a server restart all of it is still there.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHOTS, startServer } from './support';

async function addReader(page: Page, name: string, role: 'clinician' | 'annotator' | 'researcher') {
  await page.getByTestId('reader-add').click();
  await page.getByTestId('reader-name').fill(name);
  await page.getByTestId('reader-role').selectOption(role);
  await page.getByTestId('reader-create').click();
  await expect(page.getByTestId('reader-select').locator('option:checked')).toHaveText(`${name} · ${role}`);
}

async function switchReader(page: Page, name: string, role: 'clinician' | 'annotator' | 'researcher') {
  await page.getByTestId('reader-select').selectOption({ label: `${name} · ${role}` });
  await expect(page.getByTestId('reader-select').locator('option:checked')).toHaveText(`${name} · ${role}`);
}

/** Keyboard only from here: number keys mark labels, Enter submits and opens the next case. */
async function labelWithKeys(page: Page, keys: string[], done: number, total: RegExp) {
  const before = await page.getByTestId('image-canvas').getAttribute('data-image-id');
  for (const k of keys) await page.keyboard.press(k);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('worklist-progress')).toHaveText(new RegExp(`^${done} / ${total.source} cases$`));
  await expect(page.getByTestId('image-canvas')).not.toHaveAttribute('data-image-id', before ?? '');
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);
  await expect(page.getByTestId('review-status')).toContainText('Not reviewed by you yet');
}

async function openFirstCase(page: Page, fileName: string) {
  await page.getByTestId('tab-worklist').click();
  await page.getByTestId(`case-${fileName}`).click();
  await expect(page.getByTestId('tab-review')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('review-status')).toBeVisible();
}

const FIRST = 'cxr-opacity-dx.dcm';

// A missing control fails fast instead of waiting out the whole test.
test.use({ actionTimeout: 20_000 });

test('readers review, label, agree, adjudicate, and it all survives a restart', async ({ page }) => {
  test.setTimeout(300_000);
  mkdirSync(SHOTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'resight-e2e-review-'));
  let server = await startServer(dataDir);
  try {
    await page.goto(server.url);

    // ── A clinician agrees, disagrees and signs; a later edit is a new version.
    await addReader(page, 'Dr Adams', 'clinician');
    await page.getByTestId(`sample-${FIRST}`).click();
    await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-image-id', /^[0-9a-f]{64}$/);
    await page.getByTestId('run-model').click();
    await expect(page.getByTestId('top-finding')).toBeVisible({ timeout: 60_000 });
    await page.getByTestId('label-opacity-agree').click();
    await page.getByTestId('label-nodule-disagree').click();
    await page.getByTestId('confidence-4').click();
    await page.getByTestId('review-note').fill('Opacity as the model says; I see no nodule.');
    await page.getByTestId('review-sign').click();
    await expect(page.getByTestId('review-status')).toContainText('Signed by Dr Adams · version 1');
    await page.getByTestId('label-effusion-uncertain').click();
    await expect(page.getByTestId('review-status')).toContainText('unsaved changes');
    await expect(page.getByTestId('review-amend-hint')).toContainText('Version 1 is signed and stays as it is');
    await page.getByTestId('review-save').click();
    await expect(page.getByTestId('review-status')).toContainText('Saved by Dr Adams · version 2');
    await page.getByTestId('review-history').locator('summary').click();
    await expect(page.getByTestId('review-history').locator('li')).toHaveCount(2);
    await expect(page.getByTestId('review-history').locator('li').first()).toContainText('v1');
    await expect(page.getByTestId('review-history').locator('li').first()).toContainText('signed');
    await page.screenshot({ path: join(SHOTS, 'review-clinician.png') });

    // ── An annotator labels three cases with the keyboard and draws a box on the first.
    await addReader(page, 'Ann Baker', 'annotator');
    await page.getByTestId('tab-worklist').click();
    await page.getByTestId('worklist-add-samples').click();
    await expect(page.getByTestId('worklist').locator('li')).not.toHaveCount(1);
    const total = /\d+/;
    await openFirstCase(page, FIRST);
    await page.keyboard.press('1');
    await expect(page.getByTestId('label-opacity-present')).toHaveAttribute('aria-pressed', 'true');
    await page.keyboard.press('b');
    const box = (await page.getByTestId('image-canvas').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx - 60, cy - 40);
    await page.mouse.down();
    await page.mouse.move(cx + 60, cy + 50, { steps: 6 });
    await page.mouse.up();
    await expect(page.getByTestId('region-0')).toBeVisible();
    await expect(page.getByTestId('region-list')).toContainText('box · Lung opacity');
    // Undo and redo the box from the keyboard.
    await page.keyboard.press('Control+z');
    await expect(page.getByTestId('region-0')).toHaveCount(0);
    await page.keyboard.press('Control+Shift+z');
    await expect(page.getByTestId('region-0')).toBeVisible();
    await page.keyboard.press('b');
    // Edit with the mouse: drag the box to move it; draw a polygon corner by corner, then delete it.
    const box0 = page.getByTestId('region-0');
    const drawnAt = (await box0.getAttribute('points'))!;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 30, cy + 20, { steps: 4 });
    await page.mouse.up();
    await expect(box0).not.toHaveAttribute('points', drawnAt);
    // Regions follow the view: zoom in (+) moves the box on screen, fit (F) brings it back.
    const fitted = (await box0.getAttribute('points'))!;
    await page.keyboard.press('+');
    await expect(box0).not.toHaveAttribute('points', fitted);
    await page.keyboard.press('f');
    await expect(box0).toHaveAttribute('points', fitted);
    await page.keyboard.press('g');
    await page.mouse.click(cx - 150, cy - 150);
    await page.mouse.click(cx - 100, cy - 150);
    await page.mouse.dblclick(cx - 120, cy - 100);
    await expect(page.getByTestId('region-1')).toBeVisible();
    await expect(page.getByTestId('region-list')).toContainText('polygon · Lung opacity');
    await page.keyboard.press('Escape');
    await page.getByTestId('region-1').click();
    await page.keyboard.press('Delete');
    await expect(page.getByTestId('region-1')).toHaveCount(0);
    await expect(page.getByTestId('annotation-layer')).toHaveAttribute('data-regions', '1');
    await page.screenshot({ path: join(SHOTS, 'review-annotator-box.png') });
    await labelWithKeys(page, [], 1, total);
    await labelWithKeys(page, ['4'], 2, total);
    await labelWithKeys(page, ['3', '4'], 3, total);

    // ── A second annotator labels the same three cases.
    await addReader(page, 'Ann Chen', 'annotator');
    await openFirstCase(page, FIRST);
    await expect(page.getByTestId('case-readers')).toContainText('Ann Baker');
    await labelWithKeys(page, ['1', '2'], 1, total);
    await labelWithKeys(page, ['4'], 2, total);
    await labelWithKeys(page, ['3'], 3, total);

    // ── Kappa and the adjudication queue; the designated reader records a final label.
    await page.getByTestId('tab-agreement').click();
    // Cardiomegaly, Ann Baker [no, yes, yes] vs Ann Chen [no, yes, no]: Cohen's κ = 0.40. Effusion: both [no, no, yes]: κ = 1.
    await expect(page.getByTestId('kappa-cardiomegaly')).toContainText('0.40 Cohen');
    await expect(page.getByTestId('kappa-effusion')).toContainText('1.00 Cohen');
    await expect(page.getByTestId('adjudication-item').filter({ hasText: 'cardiomegaly' })).toHaveCount(1);
    await expect(page.getByTestId('adjudication-item').filter({ hasText: 'nodule' })).not.toHaveCount(0);
    await page.getByTestId('adjudicator-select').selectOption({ label: 'Dr Adams' });
    await expect(page.getByText('Switch reader to Dr Adams')).toBeVisible();
    await switchReader(page, 'Dr Adams', 'clinician');
    const cardio = page.getByTestId('adjudication-item').filter({ hasText: 'cardiomegaly' });
    await cardio.getByRole('textbox').fill('heart size upper normal');
    await cardio.getByTestId('adjudicate-absent').click();
    await expect(page.getByTestId('adjudication-item').filter({ hasText: 'cardiomegaly' }).getByTestId('adjudication-final')).toContainText('absent by Dr Adams');
    await page.screenshot({ path: join(SHOTS, 'review-agreement.png') });

    // ── The researcher's view scores Ann Baker's box against the model's CAM on the first case.
    await page.getByTestId('tab-research').click();
    await expect(page.getByTestId('overlap-overall')).toContainText('1 region');
    await expect(page.getByTestId('overlap-cases')).toContainText('Ann Baker');
    await page.screenshot({ path: join(SHOTS, 'review-research.png') });

    // ── Restart the server: everything is still there.
    await server.stop();
    server = await startServer(dataDir);
    await page.goto(server.url);
    await expect(page.getByTestId('reader-select').locator('option:checked')).toHaveText('Dr Adams · clinician');
    await page.getByTestId('tab-agreement').click();
    await expect(page.getByTestId('kappa-cardiomegaly')).toContainText('0.40 Cohen');
    await expect(page.getByTestId('adjudication-item').filter({ hasText: 'cardiomegaly' }).getByTestId('adjudication-final')).toContainText('absent by Dr Adams');
    await openFirstCase(page, FIRST);
    await expect(page.getByTestId('review-status')).toContainText('Saved by Dr Adams · version 2');
    await expect(page.getByTestId('label-nodule-present')).toHaveAttribute('aria-pressed', /true|false/);
    await expect(page.getByTestId('case-readers')).toContainText('Ann Chen');
    await switchReader(page, 'Ann Baker', 'annotator');
    await expect(page.getByTestId('region-0')).toBeVisible();
    await expect(page.getByTestId('label-opacity-present')).toHaveAttribute('aria-pressed', 'true');
    await page.getByTestId('tab-worklist').click();
    await expect(page.getByTestId('worklist-progress')).toHaveText(/^3 \/ \d+ cases$/);
    await expect(page.getByTestId(`case-${FIRST}`)).toHaveAttribute('data-status', 'read');
    // Flag a case, then filter by status.
    await page.getByTestId(`case-${FIRST}`).locator('xpath=..').getByRole('button', { name: '⚑' }).click();
    await expect(page.getByTestId(`case-${FIRST}`)).toHaveAttribute('data-status', 'flagged');
    await page.getByTestId('worklist-status').selectOption('read');
    await expect(page.getByTestId('worklist').locator('button.case')).toHaveCount(2);
    await page.getByTestId('worklist-status').selectOption('flagged');
    await expect(page.getByTestId('worklist').locator('button.case')).toHaveCount(1);
    await page.getByTestId('worklist-status').selectOption('all');
    await page.screenshot({ path: join(SHOTS, 'review-after-restart.png') });
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
