// Runs in tests. Settings and model management through the real backend (SQLite file, real model
// files): persisted across restarts, imports verified, bad cards refused with precise errors.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forkSpawner } from '../inference/host/fork';
import { frameCacheBudget } from '../imaging/cache';
import { hostEntry, modelsDir, samplesDir } from '../testing/fixtures';
import { createBackend } from './backend';
import { dispatch } from './dispatch';

const ctx = { frontDoor: 'browser' as const, reader: 'dr-test' };
const cardFile = readdirSync(modelsDir).filter((f) => f.endsWith('.json')).sort()[0]!;
const card = JSON.parse(readFileSync(path.join(modelsDir, cardFile), 'utf8')) as { id: string; version: string; file: string };

async function backendAt(dataDir: string) {
  return createBackend({ dataDir, modelsDir, samplesDir, frontDoor: 'browser', hostSpawner: forkSpawner(hostEntry), log: () => {} });
}

/** A copy of the bundled model in a folder of its own, with a card edited by `edit`. */
function modelCopy(edit: (c: Record<string, unknown>) => Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-model-'));
  copyFileSync(path.join(modelsDir, card.file), path.join(dir, card.file));
  const cardPath = path.join(dir, 'card.json');
  writeFileSync(cardPath, JSON.stringify(edit({ ...card })));
  return cardPath;
}

describe('settings and models', () => {
  it('persists provider, threads and the active model across a restart', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'resight-settings-'));
    let b = await backendAt(dataDir);
    expect(await b.handlers['settings.get']({}, ctx)).toEqual({ provider: 'auto', threads: null, activeModel: null, frameCacheMB: null });
    await b.handlers['settings.set']({ provider: 'cpu', threads: 1, frameCacheMB: 256 }, ctx);
    // The frame cache takes its new budget at once, not after a restart.
    expect(b.cache.budgetBytes).toBe(256 * 1024 ** 2);
    const imported = await b.handlers['models.import']({ cardPath: modelCopy((c) => ({ ...c, version: '9.9.9-local' })) }, ctx);
    expect(imported).toMatchObject({ id: card.id, version: '9.9.9-local', source: 'user' });
    await b.handlers['models.setActive']({ id: card.id, version: '9.9.9-local' }, ctx);
    await b.close();

    b = await backendAt(dataDir);
    expect(await b.handlers['settings.get']({}, ctx)).toEqual({ provider: 'cpu', threads: 1, activeModel: { id: card.id, version: '9.9.9-local' }, frameCacheMB: 256 });
    expect(b.cache.budgetBytes).toBe(256 * 1024 ** 2);
    await b.handlers['settings.set']({ frameCacheMB: null }, ctx);
    expect(b.cache.budgetBytes).toBe(frameCacheBudget());
    await expect(dispatch(b.handlers, 'settings.set', { frameCacheMB: 8 }, ctx)).resolves.toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const list = await b.handlers['models.list']({}, ctx);
    expect(list.find((m) => m.active)).toMatchObject({ version: '9.9.9-local', source: 'user' });
    expect(list.filter((m) => m.source === 'bundled').length).toBeGreaterThan(0);
    await b.close();
  });

  it('refuses cards that point outside their folder, do not match their checksum, or repeat a version', async () => {
    const b = await backendAt(mkdtempSync(path.join(os.tmpdir(), 'resight-settings-')));
    const outside = modelCopy((c) => ({ ...c, version: '2', file: `../${card.file}` }));
    await expect(b.handlers['models.import']({ cardPath: outside }, ctx)).rejects.toMatchObject({ code: 'MODEL_CARD_INVALID', message: expect.stringContaining('"file"') });
    const wrongSha = modelCopy((c) => ({ ...c, version: '3', sha256: '0'.repeat(64) }));
    await expect(b.handlers['models.import']({ cardPath: wrongSha }, ctx)).rejects.toMatchObject({ code: 'MODEL_FILE_INVALID' });
    const same = modelCopy((c) => c);
    await expect(b.handlers['models.import']({ cardPath: same }, ctx)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const noLabels = modelCopy((c) => ({ ...c, version: '4', labels: [] }));
    await expect(b.handlers['models.import']({ cardPath: noLabels }, ctx)).rejects.toMatchObject({ message: expect.stringContaining('"labels"') });
    await expect(b.handlers['models.setActive']({ id: 'nope', version: '1' }, ctx)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await b.close();
  });
});
