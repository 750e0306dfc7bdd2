// Runs in tests. The study browser's calls through the real backend: a folder grouped into patient →
// study → series, and thumbnails that show what the full display shows, at a fraction of its size.
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDisplay } from '../imaging/export';
import { loadImage } from '../imaging/load';
import { forkSpawner } from '../inference/host/fork';
import { hostEntry, modelsDir, samplesDir } from '../testing/fixtures';
import { createBackend, type Backend } from './backend';
import { dispatch } from './dispatch';

const ctx = { frontDoor: 'browser' as const, reader: 'dr-browse' };
let b: Backend;
let folder: string;

beforeAll(async () => {
  b = await createBackend({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'resight-browse-')), modelsDir, samplesDir, frontDoor: 'browser', hostSpawner: forkSpawner(hostEntry), log: () => {} });
  folder = mkdtempSync(path.join(os.tmpdir(), 'resight-browse-folder-'));
  mkdirSync(path.join(folder, 'a', 'b'), { recursive: true });
  copyFileSync(path.join(samplesDir, 'cxr-normal-cr.dcm'), path.join(folder, 'a', 'one.dcm'));
  copyFileSync(path.join(samplesDir, 'cxr-opacity-dx.dcm'), path.join(folder, 'a', 'b', 'two.dcm'));
  copyFileSync(path.join(samplesDir, 'cxr-effusion-8bit.png'), path.join(folder, 'film.png'));
});
afterAll(async () => b?.close());

describe('study browser calls', () => {
  it('groups a folder into patients, studies and series, with its PNGs beside them', async () => {
    const tree = await b.handlers['studies.scanFolder']({ path: folder }, ctx);
    const instances = tree.patients.flatMap((p) => p.studies.flatMap((s) => s.series.flatMap((se) => se.instances)));
    expect(instances.map((i) => path.basename(i.path)).sort()).toEqual(['one.dcm', 'two.dcm']);
    expect(tree.patients.flatMap((p) => p.studies.flatMap((s) => s.series.map((se) => se.modality))).sort()).toEqual(['CR', 'DX']);
    expect(tree.rasters.map((r) => path.basename(r))).toEqual(['film.png']);
    expect((await dispatch(b.handlers, 'studies.scanFolder', { path: 'relative/folder' }, ctx)).ok).toBe(false);
    expect(await dispatch(b.handlers, 'studies.scanFolder', { path: path.join(folder, 'missing') }, ctx)).toMatchObject({ ok: false, error: { code: 'FILE_NOT_FOUND' } });
  });

  it('makes a thumbnail through the display pipeline (MONOCHROME1 shown bright-bones)', async () => {
    const file = path.join(folder, 'a', 'one.dcm');
    const thumb = await b.handlers['studies.thumbnail']({ path: file, size: 96 }, ctx);
    const { width, height } = thumb.meta;
    expect(Math.min(width, height)).toBeGreaterThanOrEqual(96);
    expect(thumb.data.length).toBe(width * height);
    const image = await loadImage(file);
    expect(width).toBeLessThan(image.info.width);
    const full = renderDisplay(image, 0).pixels;
    const mean = (a: Uint8Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(thumb.data) - mean(full))).toBeLessThan(3);
  });
});
