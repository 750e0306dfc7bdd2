// Runs in tests. A large JPEG 2000 radiograph opens from the resolution level its view draws first:
// the open call decodes no full frame, the viewer's first request is answered from that decode, and
// the full frame comes when asked for. Small images open in full as before.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePool } from '../imaging/pool';
import { fixturesScript } from '../imaging/testdata/fixtures';
import { viewPreviewTarget } from '../imaging/reduce';
import { forkSpawner } from '../inference/host/fork';
import { hostEntry, modelsDir, samplesDir } from '../testing/fixtures';
import { createBackend, type Backend } from './backend';

const ctx = { frontDoor: 'browser' as const, reader: 'dr-open' };
let b: Backend;
let j2k: string;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-open-preview-'));
  const raw = path.join(dir, 'big.dcm');
  execFileSync('/usr/bin/python3', [fixturesScript, 'big', raw, '3000', '2500']);
  j2k = path.join(dir, 'big-j2k.dcm');
  execFileSync('gdcmconv', ['--j2k', raw, j2k]);
  b = await createBackend({ dataDir: path.join(dir, 'data'), modelsDir, samplesDir, frontDoor: 'browser', hostSpawner: forkSpawner(hostEntry), log: () => {} });
}, 120_000);
afterAll(async () => b?.close());

describe('opening a large image for a view', () => {
  it('decodes only the level the view needs, answers the first frame from it, and the full frame on request', async () => {
    const view = { width: 800, height: 700 };
    const info = await b.handlers['studies.openFile']({ path: j2k, view }, ctx);
    expect({ width: info.width, height: info.height }).toEqual({ width: 2500, height: 3000 });
    expect(b.cache.get(info.imageId)).toBeUndefined();
    const target = viewPreviewTarget(info.width, info.height, view)!;
    const decodes = decodePool().requests;
    const first = await b.handlers['studies.getFrame']({ imageId: info.imageId, frame: 0, target }, ctx);
    // Answered from the decode the open did: no second JPEG 2000 decode.
    expect(decodePool().requests).toBe(decodes);
    expect(first.meta.width).toBeLessThan(info.width);
    expect(first.meta.width).toBeGreaterThanOrEqual(target.width);
    const full = await b.handlers['studies.getFrame']({ imageId: info.imageId, frame: 0 }, ctx);
    expect({ width: full.meta.width, height: full.meta.height }).toEqual({ width: 2500, height: 3000 });
    // The same image as opening without a view: same id, same window from the file.
    const whole = await b.handlers['studies.openFile']({ path: j2k }, ctx);
    expect(whole.imageId).toBe(info.imageId);
    expect(whole.windows).toEqual(info.windows);
  }, 60_000);

  it('opens small images in full whatever the view', async () => {
    const info = await b.handlers['studies.openSample']({ name: 'cxr-normal-cr.dcm', view: { width: 200, height: 200 } }, ctx);
    expect(b.cache.get(info.imageId)).toBeDefined();
  });
});
