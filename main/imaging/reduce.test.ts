// Runs in tests. Decoding for a target size: JPEG 2000 / HTJ2K at a reduced resolution level,
// other encodings decoded in full and area-averaged once; the caches stay within their budgets.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplesDir } from '../testing/fixtures';
import { j2kDecompositionLevels, reductionLevel } from './codecs';
import { parseDicomFile } from './dicom';
import { ImageCache, imageBytes, loadFrameForSize, loadImage, reducedFrameCache } from './load';
import { DecodePool } from './pool';
import { areaAverage, coverSize } from './reduce';
import { encodeHtj2k } from './testdata/fixtures';

const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-reduce-'));
const file = (name: string): string => path.join(dir, name);
const pool = new DecodePool({ size: 1 });
const SAMPLE = 'cxr-normal-cr'; // 640 × 768, 12-bit MONOCHROME1

beforeAll(async () => {
  copyFileSync(path.join(samplesDir, `${SAMPLE}.dcm`), file('cr.dcm'));
  execFileSync('gdcmconv', ['--j2k', file('cr.dcm'), file('cr.j2k.dcm')]);
  execFileSync('dcmcrle', [file('cr.dcm'), file('cr.rle.dcm')]);
  await encodeHtj2k(dir, 'cr');
}, 60_000);
afterAll(() => pool.close());

describe('area averaging', () => {
  it('covers the target keeping the aspect ratio, and never enlarges', () => {
    expect(coverSize(2500, 3000, { width: 224, height: 224 })).toEqual({ width: 224, height: 269 });
    expect(coverSize(3000, 2500, { width: 224, height: 224 })).toEqual({ width: 269, height: 224 });
    expect(coverSize(100, 80, { width: 224, height: 224 })).toEqual({ width: 100, height: 80 });
  });

  it('averages each output pixel over the source area it covers, per sample, in the source type', () => {
    const grey = Uint16Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(Array.from(areaAverage(grey, 4, 4, 1, 2, 2))).toEqual([4, 6, 12, 14]); // 3.5, 5.5, 11.5, 13.5 rounded half up
    const rgb = Uint8Array.from([10, 0, 200, 20, 0, 100, 30, 0, 0]);
    const out = areaAverage(rgb, 3, 1, 3, 1, 1);
    expect(out).toBeInstanceOf(Uint8Array);
    expect(Array.from(out)).toEqual([20, 0, 100]);
    // Fractional overlaps: 3 → 2 weighs the middle pixel half to each side.
    const thirds = areaAverage(Float32Array.from([0, 3, 6]), 3, 1, 1, 2, 1);
    expect(thirds[0]).toBeCloseTo(1, 5);
    expect(thirds[1]).toBeCloseTo(5, 5);
  });
});

describe('JPEG 2000 resolution levels', () => {
  it('reads the decomposition levels from the codestream and picks the smallest level covering the target', () => {
    const frame = parseDicomFile(new Uint8Array(readFileSync(file('cr.j2k.dcm')))).encodedFrame(0);
    expect(j2kDecompositionLevels(frame)).toBeGreaterThanOrEqual(3);
    expect(j2kDecompositionLevels(Uint8Array.from([1, 2, 3]))).toBe(0);
    expect(reductionLevel(2500, 3000, 5, { width: 224, height: 224 })).toBe(3); // 313 × 375
    expect(reductionLevel(2500, 3000, 2, { width: 224, height: 224 })).toBe(2); // the stream has no more
    expect(reductionLevel(640, 768, 5, { width: 224, height: 224 })).toBe(1); // 320 × 384; level 2 is 160 wide
    expect(reductionLevel(640, 768, 5, { width: 640, height: 768 })).toBe(0);
  });

  for (const name of ['cr.j2k.dcm', 'cr.htj2k.dcm']) {
    it(`${name}: decodes level 1 for a 224 px target, close to the area average of the full decode`, async () => {
      const full = await loadImage(file(name), { pool });
      const small = await loadFrameForSize(file(name), { width: 224, height: 224 }, { pool, cache: reducedFrameCache(0) });
      expect(small).toMatchObject({ width: 320, height: 384, frame: 0 });
      expect(small.info).toMatchObject({ width: 640, height: 768, imageId: full.info.imageId });
      expect(small.pixels).toBeInstanceOf(Uint16Array);
      // The wavelet's low-pass band, centred on its blocks, is a smoothed half-size image: compare with 2 × 2 means.
      const mean = areaAverage(full.frame(0), 640, 768, 1, 320, 384);
      let err = 0;
      for (let i = 0; i < mean.length; i++) err += Math.abs(small.pixels[i]! - mean[i]!);
      expect(err / mean.length).toBeLessThan(0.01 * 4095);
    });
  }

  it('decodes other encodings in full and area-averages them once, to the size covering the target', async () => {
    const full = await loadImage(file('cr.rle.dcm'), { pool });
    const small = await loadFrameForSize(file('cr.rle.dcm'), { width: 224, height: 224 }, { pool, cache: reducedFrameCache(0) });
    expect(small).toMatchObject({ width: 224, height: 269 });
    expect(Array.from(small.pixels)).toEqual(Array.from(areaAverage(full.frame(0), 640, 768, 1, 224, 269)));
    // An image already decoded in full gives the same frame from memory, without a decode; a JPEG
    // 2000 one does not, since its reduced frame is a resolution level.
    const requests = pool.requests;
    const fromMemory = await loadFrameForSize(file('cr.rle.dcm'), { width: 224, height: 224 }, { pool, cache: reducedFrameCache(0), decoded: full });
    expect(pool.requests).toBe(requests);
    expect(fromMemory).toMatchObject({ width: 224, height: 269, info: full.info });
    expect(Array.from(fromMemory.pixels)).toEqual(Array.from(small.pixels));
    await expect(loadFrameForSize(file('cr.rle.dcm'), { width: 224, height: 224 }, { pool, frame: 1, decoded: full })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const j2kFull = await loadImage(file('cr.j2k.dcm'), { pool });
    await loadFrameForSize(file('cr.j2k.dcm'), { width: 224, height: 224 }, { pool, cache: reducedFrameCache(0), decoded: j2kFull });
    expect(pool.requests).toBe(requests + 2);
  });

  it('keeps reduced frames by file, frame and size, and decodes again for another size', async () => {
    const cache = reducedFrameCache(64 * 1024 ** 2);
    const a = await loadFrameForSize(file('cr.j2k.dcm'), { width: 224, height: 224 }, { pool, cache });
    expect(await loadFrameForSize(file('cr.j2k.dcm'), { width: 224, height: 224 }, { pool, cache })).toBe(a);
    const b = await loadFrameForSize(file('cr.j2k.dcm'), { width: 512, height: 512 }, { pool, cache });
    expect(b).not.toBe(a);
    // No level of a 640 × 768 image covers 512 px once halved: decoded in full, then area-averaged.
    expect(b).toMatchObject({ width: 512, height: 615 });
    expect(cache.size).toBe(2);
  });
});

describe('frame cache byte budget', () => {
  it('shares one load between callers asking for the same image at once, and loads again after a failure', async () => {
    const image = await loadImage(file('cr.dcm'), { pool });
    const cache = new ImageCache(64 * 1024 ** 2);
    let loads = 0;
    const slowLoad = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 20));
      return image;
    };
    const [a, b] = await Promise.all([cache.getOrLoad(image.info.imageId, slowLoad), cache.getOrLoad(image.info.imageId, slowLoad)]);
    expect(loads).toBe(1);
    expect(a).toBe(image);
    expect(b).toBe(image);
    expect(cache.get(image.info.imageId)).toBe(image);
    let tries = 0;
    const failing = async (): Promise<typeof image> => {
      tries++;
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('file gone');
    };
    const settled = await Promise.allSettled([cache.getOrLoad('other', failing), cache.getOrLoad('other', failing)]);
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(tries).toBe(1);
    await expect(cache.getOrLoad('other', failing)).rejects.toThrow('file gone');
    expect(tries).toBe(2);
  });

  it('opening a 100-image study keeps the decoded bytes within the budget, evicting the least recently used', async () => {
    // One 64 × 64 12-bit CR image made by dcmtk, then 100 copies whose last pixel differs (pixel
    // data ends the file), so each has its own sha256 and cache entry.
    const values = Array.from({ length: 64 * 64 }, (_, p) => ((p * 7) % 4096).toString(16).padStart(4, '0'));
    writeFileSync(
      file('base.txt'),
      [
        '(0008,0016) UI =ComputedRadiographyImageStorage',
        '(0008,0018) UI [1.2.826.0.1.3680043.8.498.7]',
        '(0008,0060) CS [CR]',
        '(0028,0002) US 1',
        '(0028,0004) CS [MONOCHROME2]',
        '(0028,0010) US 64',
        '(0028,0011) US 64',
        '(0028,0100) US 16',
        '(0028,0101) US 12',
        '(0028,0102) US 11',
        '(0028,0103) US 0',
        `(7fe0,0010) OW ${values.join('\\')}`,
      ].join('\n') + '\n',
    );
    execFileSync('dump2dcm', ['+te', '+l', '65536', file('base.txt'), file('base.dcm')]);
    const base = readFileSync(file('base.dcm'));
    const files = Array.from({ length: 100 }, (_, i) => {
      const copy = Buffer.from(base);
      copy.writeUInt16LE(i, copy.length - 2);
      writeFileSync(file(`study-${i}.dcm`), copy);
      return file(`study-${i}.dcm`);
    });
    const perImage = 64 * 64 * 2;
    const budget = 10 * perImage + perImage / 2;
    const cache = new ImageCache(budget);
    const ids: string[] = [];
    for (const f of files) {
      const image = await loadImage(f, { pool });
      expect(imageBytes(image)).toBe(perImage);
      cache.put(image);
      ids.push(image.info.imageId);
      expect(cache.bytes).toBeLessThanOrEqual(budget);
    }
    expect(cache.size).toBe(10);
    expect(cache.get(ids[0]!)).toBeUndefined();
    // Touching an image keeps it through the next insertion; the oldest untouched one goes.
    expect(cache.get(ids[90]!)).toBeDefined();
    cache.put(await loadImage(files[0]!, { pool }));
    expect(cache.get(ids[90]!)).toBeDefined();
    expect(cache.get(ids[91]!)).toBeUndefined();
    // Lowering the budget evicts at once.
    cache.setBudget(3 * perImage);
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBeLessThanOrEqual(3 * perImage);
  });
});
