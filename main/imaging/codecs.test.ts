// Runs in tests. Every lossless encoding, made by dcmtk, GDCM and OpenJPH from the same pixels,
// decodes to exactly what pydicom + GDCM decode; lossy ones come close to it.
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { samplesDir } from '../testing/fixtures';
import { loadImage } from './load';
import { makeFixtures, makeSampleFixtures, type Fixtures } from './testdata/fixtures';

const samples = (() => {
  try {
    return readdirSync(samplesDir).filter((f) => f.endsWith('.dcm')).map((f) => f.slice(0, -4));
  } catch {
    return [];
  }
})();

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures();
}, 120_000);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The largest difference and the share of samples exactly equal. */
function agreement(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; exact: number } {
  let equal = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) equal++;
  return { max: maxAbsDiff(a, b), exact: equal / a.length };
}

/**
 * JPEG Extended (12-bit on Resight's own decoder) against dcmtk's dcmdjpeg and pydicom + GDCM (both libjpeg's accurate integer
 * IDCT): the floating-point IDCT differs from it by at most one grey level, on a few samples.
 */
async function expectExtendedClose(fx: Fixtures, minExact: number): Promise<void> {
  for (const { name, reference } of fx.lossy.filter((l) => l.name.endsWith('.extended'))) {
    const ours = (await loadImage(fx.file(name))).storedFrame(0);
    const ref = fx.reference(reference).data as ArrayLike<number>;
    expect(ours.length, reference).toBe(ref.length);
    const { max, exact } = agreement(ours, ref);
    expect(max, reference).toBeLessThanOrEqual(1);
    expect(exact, reference).toBeGreaterThanOrEqual(minExact);
  }
}

async function expectLosslessExact(fx: Fixtures): Promise<void> {
  for (const { name, reference } of fx.lossless) {
    const img = await loadImage(fx.file(name));
    const ref = fx.reference(reference);
    const perFrame = ref.data.length / img.dicom!.frames;
    for (let f = 0; f < img.dicom!.frames; f++) {
      const ours = img.storedFrame(f);
      expect(ours.constructor.name, name).toBe(ref.data.constructor.name);
      expect(ours.length, name).toBe(perFrame);
      const refBytes = Buffer.from(ref.data.buffer, perFrame * f * ref.data.BYTES_PER_ELEMENT, ours.byteLength);
      expect(Buffer.from(ours.buffer, ours.byteOffset, ours.byteLength).equals(refBytes), `${name} frame ${f}`).toBe(true);
    }
  }
}

describe('decoding against pydicom + GDCM', () => {
  it('matches every lossless encoding pixel for pixel, frame by frame', async () => {
    expect(fx.lossless.length).toBeGreaterThanOrEqual(30);
    await expectLosslessExact(fx);
  });

  it.skipIf(samples.length === 0)('matches on the sample radiographs in every lossless encoding', async () => {
    // One film of each kind the samples hold (CR MONOCHROME1, DX MONOCHROME2) keeps this quick.
    const picked = [samples.find((s) => /-cr$/.test(s)), samples.find((s) => /-dx$/.test(s))].filter((s): s is string => !!s);
    const sx = await makeSampleFixtures(samplesDir, picked.length ? picked : samples.slice(0, 2));
    expect(sx.lossless.length).toBeGreaterThanOrEqual(6);
    await expectLosslessExact(sx);
    // Measured: 98.4% (cardiomegaly-effusion CR) and 98.6% (opacity DX) of samples equal to both
    // references, the rest one level apart either way.
    expect(sx.lossy.length).toBeGreaterThanOrEqual(2);
    await expectExtendedClose(sx, 0.98);
  }, 120_000);

  it('stays close to the reference for lossy encodings', async () => {
    for (const { name, reference } of fx.lossy) {
      const img = await loadImage(fx.file(name));
      const ref = fx.reference(reference);
      const ours = img.storedFrame(0);
      // Two IDCT implementations may differ by a grey level; J2K/JPEG-LS decoders agree exactly.
      expect(ours.length, name).toBe(ref.data.length);
      expect(maxAbsDiff(ours, ref.data as ArrayLike<number>), name).toBeLessThanOrEqual(/baseline|extended/.test(name) ? 2 : 0);
    }
  });

  it('decodes JPEG Extended with 12-bit samples within a grey level of dcmtk and GDCM', async () => {
    const img = await loadImage(fx.file('grey12.extended'));
    expect(img.info).toMatchObject({ width: 67, height: 53, pixelDataType: 'uint16' });
    // Measured: 97.4% equal on this 67 × 53 phantom, whose detail is nearly all sharp edges.
    await expectExtendedClose(fx, 0.97);
  });

  it('reports the file photometric of colour converted for display', async () => {
    for (const name of ['rgb.j2k-lossy', 'rgb.baseline']) {
      const img = await loadImage(fx.file(name));
      expect(img.info.photometric, name).toBe('RGB');
      expect(img.dicom!.photometric, name).toMatch(/^(RGB|YBR_ICT|YBR_RCT|YBR_FULL_422|YBR_FULL)$/);
    }
  });

  it('shows colour as RGB: planar, YBR_FULL, YBR_FULL_422 and palettes', async () => {
    const rgb = (await loadImage(fx.file('rgb'))).frame(0);
    const planar = await loadImage(fx.file('rgb-planar'));
    expect(Buffer.from(planar.frame(0) as Uint8Array).equals(Buffer.from(rgb as Uint8Array))).toBe(true);
    const ybr = await loadImage(fx.file('ybr-full'));
    expect(ybr.info).toMatchObject({ photometric: 'RGB', storedPhotometric: 'YBR_FULL', samplesPerPixel: 3, pixelDataType: 'uint8' });
    // Rounding YBR to 8 bits and back costs at most a couple of levels.
    expect(maxAbsDiff(ybr.frame(0), rgb)).toBeLessThanOrEqual(3);
    const y422 = await loadImage(fx.file('ybr-422'));
    expect(y422.info.width).toBe(66);
    expect(y422.storedFrame(0).length).toBe(66 * 53 * 3);

    const p8 = await loadImage(fx.file('palette8'));
    const p16 = await loadImage(fx.file('palette16'));
    const idx = p8.storedFrame(0);
    const shown = p8.frame(0);
    for (const i of [0, 100, 2000]) {
      const v = idx[i]!;
      expect([shown[3 * i], shown[3 * i + 1], shown[3 * i + 2]]).toEqual([v, 255 - v, (v * 7) % 256]);
    }
    expect(maxAbsDiff(p16.frame(0), shown)).toBeLessThanOrEqual(1);
  });

  it('reads geometry with its calibration source', async () => {
    const dx = await loadImage(fx.file('grey12'));
    expect(dx.info.spacing).toMatchObject({ source: 'ImagerPixelSpacing', magnificationFactor: 1.2 });
    expect(dx.info.spacing!.row).toBeCloseTo(0.125, 6);
    const cr = await loadImage(fx.file('mono1'));
    expect(cr.info.spacing).toEqual({ row: 0.2, column: 0.2, source: 'PixelSpacing' });
  });
});
