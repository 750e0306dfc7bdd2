// Runs in tests. A large JPEG 2000 radiograph opens from the resolution level below the one its view
// needs: the open call decodes no full frame, the viewer's first request (the target the open
// reply names) is answered from that decode, the view's own level and the full frame come when
// asked for. Small images open in full as before.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFrameForSize, reducedFrameCache } from '../imaging/load';
import { decodePool } from '../imaging/pool';
import { fixturesScript } from '../imaging/testdata/fixtures';
import { viewPreviewTarget } from '../imaging/reduce';
import { decodeTargetFor } from '../inference/batch';
import { InProcessEngine } from '../inference/host/client';
import { forkSpawner } from '../inference/host/fork';
import { ModelRegistry } from '../inference/registry';
import { modelInput, runBatch } from '../inference/service';
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
  it('decodes one level below the view, answers the first frame from it, then the view\'s level and the full frame on request', async () => {
    const view = { width: 800, height: 700 };
    const info = await b.handlers['studies.openFile']({ path: j2k, view }, ctx);
    expect({ width: info.width, height: info.height }).toEqual({ width: 2500, height: 3000 });
    expect(b.cache.get(info.imageId)).toBeUndefined();
    const forView = viewPreviewTarget(info.width, info.height, view)!;
    expect(info.firstFrame).toEqual({ width: Math.ceil(forView.width / 2), height: Math.ceil(forView.height / 2) });
    const decodes = decodePool().requests;
    const first = await b.handlers['studies.getFrame']({ imageId: info.imageId, frame: 0, target: info.firstFrame }, ctx);
    // Answered from the decode the open did: no second JPEG 2000 decode.
    expect(decodePool().requests).toBe(decodes);
    expect(first.meta.width).toBeGreaterThanOrEqual(info.firstFrame!.width);
    const sharper = await b.handlers['studies.getFrame']({ imageId: info.imageId, frame: 0, target: forView }, ctx);
    expect(decodePool().requests).toBe(decodes + 1);
    expect(sharper.meta.width).toBeGreaterThanOrEqual(forView.width);
    // One resolution level apart: twice the size each way.
    expect(sharper.meta.width).toBe(Math.ceil(info.width / Math.round(info.width / sharper.meta.width)));
    expect(Math.round(sharper.meta.width / first.meta.width)).toBe(2);
    const full = await b.handlers['studies.getFrame']({ imageId: info.imageId, frame: 0 }, ctx);
    expect({ width: full.meta.width, height: full.meta.height }).toEqual({ width: 2500, height: 3000 });
    // The same image as opening without a view: same id, same window from the file.
    const whole = await b.handlers['studies.openFile']({ path: j2k }, ctx);
    expect(whole.imageId).toBe(info.imageId);
    expect(whole.windows).toEqual(info.windows);
    expect(whole.firstFrame).toBeUndefined();
  }, 60_000);

  it('opens a large image in another encoding from the frame its view needs, since every decode costs the same', async () => {
    const raw = path.join(path.dirname(j2k), 'big.dcm');
    const view = { width: 800, height: 700 };
    const info = await b.handlers['studies.openFile']({ path: raw, view }, ctx);
    expect(info.firstFrame).toEqual(viewPreviewTarget(info.width, info.height, view));
  }, 60_000);

  /** A copy of the J2K film with its first preamble byte set: another image id, so nothing is cached. */
  const freshCopy = (name: string, byte: number): string => {
    const copy = path.join(path.dirname(j2k), name);
    const bytes = readFileSync(j2k);
    bytes.writeUInt8(byte, 0);
    writeFileSync(copy, bytes);
    return copy;
  };

  /** Probabilities as batch review computes them: the reduced frame for the model's input size. */
  const batchProbabilities = async (file: string): Promise<number[]> => {
    const model = await new ModelRegistry([modelsDir]).active();
    const engine = new InProcessEngine();
    try {
      const frame = await loadFrameForSize(file, decodeTargetFor(model.card), { cache: reducedFrameCache(0) });
      const [analysis] = await runBatch(engine, model, [modelInput(model, frame, 0)], { provider: 'cpu', threads: 1 });
      return analysis!.findings.map((f) => f.probability);
    } finally {
      engine.close();
    }
  };

  it('analyses a large JPEG 2000 film from the level the model needs, as batch review does, without its full decode', async () => {
    const copy = freshCopy('analyse.dcm', 0xa1);
    const info = await b.handlers['studies.openFile']({ path: copy, view: { width: 800, height: 700 } }, ctx);
    const decodes = decodePool().requests;
    const result = await b.handlers['inference.run']({ imageId: info.imageId, frame: 0 }, ctx);
    expect(decodePool().requests).toBe(decodes + 1);
    expect(b.cache.get(info.imageId)).toBeUndefined();
    const expected = await batchProbabilities(copy);
    result.findings.forEach((f, i) => expect(f.probability).toBeCloseTo(expected[i]!, 5));
    // The CAM still lies over the whole image.
    const { x0, y0, x1, y1 } = result.cam.extent;
    [x0, y0, x1 - 2500, y1 - 3000].forEach((v) => expect(v).toBeCloseTo(0, 6));
  }, 60_000);

  it('analyses an image already decoded in full from memory, with the probabilities batch review gives', async () => {
    const info = await b.handlers['studies.openSample']({ name: 'cxr-normal-cr.dcm' }, ctx);
    expect(b.cache.get(info.imageId)).toBeDefined();
    const decodes = decodePool().requests;
    const result = await b.handlers['inference.run']({ imageId: info.imageId, frame: 0 }, ctx);
    expect(decodePool().requests).toBe(decodes);
    const expected = await batchProbabilities(path.join(samplesDir, 'cxr-normal-cr.dcm'));
    result.findings.forEach((f, i) => expect(f.probability).toBeCloseTo(expected[i]!, 5));
  }, 60_000);

  it('decodes a full frame asked for twice at once only once', async () => {
    const copy = freshCopy('twice.dcm', 0xa2);
    const info = await b.handlers['studies.openFile']({ path: copy, view: { width: 800, height: 700 } }, ctx);
    const decodes = decodePool().requests;
    const [one, two] = await Promise.all([0, 1].map(() => b.handlers['studies.getFrame']({ imageId: info.imageId, frame: 0 }, ctx)));
    expect(decodePool().requests).toBe(decodes + 1);
    // Both answered from the one decoded image.
    expect(two!.data.buffer).toBe(one!.data.buffer);
    expect(b.cache.get(info.imageId)).toBeDefined();
  }, 60_000);

  it('opens small images in full whatever the view', async () => {
    const info = await b.handlers['studies.openSample']({ name: 'cxr-normal-cr.dcm', view: { width: 200, height: 200 } }, ctx);
    expect(b.cache.get(info.imageId)).toBeDefined();
  });
});
