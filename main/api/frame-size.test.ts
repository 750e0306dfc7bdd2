// Runs in tests. studies.getFrame with a target size: a JPEG 2000 image comes back at the smallest
// resolution level covering it, with the size in the reply; without one, every pixel as before.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FrameData, ImageInfo } from '../../preload/api';
import { ImageCache } from '../imaging/load';
import { openDatabase } from '../store/database';
import { Store } from '../store/repositories';
import { samplesDir } from '../testing/fixtures';
import { dispatch, type Handlers } from './dispatch';
import { studiesHandlers } from './studies';

const ctx = { frontDoor: 'browser' as const, reader: 'os-user' };

describe('studies.getFrame with a target size', () => {
  it('serves a reduced JPEG 2000 frame sized for the view, and the full frame without a target', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-frame-size-'));
    const j2k = path.join(dir, 'normal.j2k.dcm');
    execFileSync('gdcmconv', ['--j2k', path.join(samplesDir, 'cxr-normal-cr.dcm'), j2k]);
    const store = new Store(await openDatabase(path.join(dir, 'db.sqlite')));
    // A cache that keeps nothing: the reduced frame must come from the file the store remembers.
    const handlers = studiesHandlers({ samplesDir, cache: new ImageCache(0), store }) as Handlers;
    const call = async <T>(method: string, input: unknown): Promise<T> => {
      const r = await dispatch(handlers, method, input, ctx);
      if (!r.ok) throw new Error(r.error.message);
      return r.value as T;
    };
    const info = await call<ImageInfo>('studies.openFile', { path: j2k });
    const small = await call<FrameData>('studies.getFrame', { imageId: info.imageId, frame: 0, target: { width: 200, height: 200 } });
    // 640 × 768 → level 1 (320 × 384) covers 200 px; level 2 (160 × 192) would not.
    expect(small.meta).toMatchObject({ width: 320, height: 384, samplesPerPixel: 1, pixelDataType: 'uint16' });
    expect(small.data.byteLength).toBe(320 * 384 * 2);
    const full = await call<FrameData>('studies.getFrame', { imageId: info.imageId, frame: 0 });
    expect(full.meta).toMatchObject({ width: 640, height: 768 });
    const bad = await dispatch(handlers, 'studies.getFrame', { imageId: info.imageId, target: { width: 0, height: 10 } }, ctx);
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });
});
