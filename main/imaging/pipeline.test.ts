// Runs in tests. The grey pipeline's steps that dcm2pnm cannot check (LINEAR_EXACT, padding in
// the histogram), the file layouts around Part 10, and refusals with their codes.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResightError } from '../../preload/api';
import { renderDisplay } from './export';
import { decodeDicom } from './image';
import { loadImage } from './load';
import { makeSources } from './testdata/fixtures';
import { displayIntensities, displayTable, displayValue, voiLinear, voiLinearExact, voiSigmoid } from './voi';

let src: ReturnType<typeof makeSources>;
beforeAll(() => {
  src = makeSources();
});

function variant(name: string, edits: string[]): string {
  const out = path.join(src.dir, `${name}-${edits.join('').replace(/[^a-z0-9]/gi, '').slice(0, 40)}.dcm`);
  copyFileSync(src.file(name), out);
  execFileSync('dcmodify', ['-nb', ...edits, out]);
  return out;
}

describe('VOI functions (PS3.3 C.11.2.1.2 and C.11.2.1.3)', () => {
  it('follow the standard at their defining points', () => {
    expect(voiLinear(1999.5, 2000, 1000)).toBeCloseTo(0.5, 3);
    expect(voiLinear(1500, 2000, 1000)).toBe(0);
    expect(voiLinearExact(2000, 2000, 1000)).toBe(0.5);
    expect(voiLinearExact(1500, 2000, 1000)).toBe(0);
    expect(voiLinearExact(2250, 2000, 1000)).toBe(0.75);
    expect(voiLinearExact(0.25, 0, 0.5)).toBe(1);
    expect(voiSigmoid(2000, 2000, 1000)).toBe(0.5);
    expect(voiSigmoid(2500, 2000, 1000)).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
  });

  it('renders LINEAR_EXACT files with the exact formula', async () => {
    const img = await loadImage(src.file('linear-exact'));
    expect(img.info.voiLutFunction).toBe('LINEAR_EXACT');
    const { pixels } = renderDisplay(img, 0);
    const stored = img.storedFrame(0);
    for (let i = 0; i < stored.length; i += 97) expect(pixels[i]).toBe(Math.round(voiLinearExact(stored[i]!, 1500, 2000) * 255));
  });
});

describe('display intensities for the model', () => {
  it('apply Modality and VOI LUT Sequences, as the CLI rendering does, from the info alone', async () => {
    for (const name of ['modality-lut', 'voi-lut', 'sigmoid', 'inverse']) {
      const img = await loadImage(src.file(name));
      const shown = displayIntensities(img.frame(0), img.info);
      const { pixels } = renderDisplay(img, 0);
      for (let i = 0; i < shown.length; i += 13) expect(Math.round(shown[i]! * 255), name).toBe(pixels[i]);
    }
    const inverse = await loadImage(src.file('inverse'));
    const plain = { ...inverse.info, presentationLutShape: undefined };
    expect(displayIntensities(inverse.frame(0), inverse.info)[0]! + displayIntensities(inverse.frame(0), plain)[0]!).toBeCloseTo(1, 6);
  });
});

describe('display tables', () => {
  it('hold exactly the value the pipeline gives each stored value, for every VOI function and inversion', () => {
    const frame = new Int16Array(300_000).map((_, i) => ((i * 7919) % 8192) - 4096);
    const base = { slope: 0.5, intercept: -100, window: { center: 40, width: 400 }, invert: false };
    for (const p of [
      { ...base, voiLutFunction: 'LINEAR' as const },
      { ...base, voiLutFunction: 'LINEAR' as const, invert: true },
      { ...base, voiLutFunction: 'SIGMOID' as const },
      { ...base, voiLutFunction: 'LINEAR_EXACT' as const },
    ]) {
      const t = displayTable(frame, p)!;
      for (let v = -4096; v < 4096; v += 7) expect(t.table[v - t.min], `${p.voiLutFunction} ${v}`).toBe(Math.fround(displayValue(v, p)));
    }
  });
});

describe('default window', () => {
  it('leaves Pixel Padding Value out of the histogram', async () => {
    const img = await loadImage(src.file('padding'));
    const w = img.info.windows[0]!;
    expect(w.explanation).toBe('Auto (histogram)');
    // A third of the image is padding (0); real values start at 1000.
    expect(w.center - w.width / 2).toBeGreaterThanOrEqual(990);
    const unpadded = await loadImage(variant('padding', ['-e', '(0028,0120)']));
    expect(unpadded.info.windows[0]!.center - unpadded.info.windows[0]!.width / 2).toBeLessThan(100);
  });
});

describe('file layouts', () => {
  it('reads files without the preamble and bare data sets without a meta header', async () => {
    const reference = Buffer.from((await loadImage(src.file('grey12'))).storedFrame(0).buffer);
    const bytes = readFileSync(src.file('grey12'));
    const noPreamble = path.join(src.dir, 'no-preamble.dcm');
    writeFileSync(noPreamble, bytes.subarray(128));
    expect(Buffer.from((await loadImage(noPreamble)).storedFrame(0).buffer).equals(reference)).toBe(true);
    for (const ts of ['+te', '+ti']) {
      const bare = path.join(src.dir, `bare${ts}.dcm`);
      execFileSync('dcmconv', ['-F', ts, src.file('grey12'), bare]);
      expect(readFileSync(bare).subarray(128, 132).toString('latin1')).not.toBe('DICM');
      expect(Buffer.from((await loadImage(bare)).storedFrame(0).buffer).equals(reference), ts).toBe(true);
    }
  });

  it('decodes every frame of a multi-frame file', async () => {
    const img = await loadImage(src.file('multi'));
    expect(img.info.frames).toBe(3);
    const frames = [0, 1, 2].map((i) => Buffer.from(img.storedFrame(i).buffer));
    expect(frames[0]!.equals(frames[1]!)).toBe(false);
    await expect(loadImage(src.file('multi')).then((i) => i.frame(3))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('refusals', () => {
  it('refuses images over the memory limit before decoding, even with absurd declared sizes', async () => {
    await expect(loadImage(src.file('grey12'), { maxImageBytes: 1000 })).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    const huge = variant('multi', ['-m', '(0028,0010)=65535', '-m', '(0028,0011)=65535', '-m', '(0028,0008)=9999']);
    await expect(loadImage(huge)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE', message: expect.stringMatching(/MB of memory/) });
  });

  it('names what is wrong: no pixel data, length mismatch, not DICOM', async () => {
    await expect(loadImage(variant('grey12', ['-e', '(7fe0,0010)']))).rejects.toMatchObject({ code: 'NO_PIXEL_DATA' });
    await expect(loadImage(variant('grey12', ['-m', '(0028,0010)=60']))).rejects.toMatchObject({ code: 'LENGTH_MISMATCH' });
    const err = await decodeDicom(new TextEncoder().encode('Patient report: nothing to see')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResightError);
    expect((err as ResightError).code).toBe('UNSUPPORTED_FORMAT');
  });

  it('keeps patient names out of error messages', async () => {
    const cut = path.join(src.dir, 'cut.dcm');
    writeFileSync(cut, readFileSync(src.file('grey12')).subarray(0, 900));
    const err = (await loadImage(cut).catch((e: unknown) => e)) as ResightError;
    expect(err.code).toBe('TRUNCATED_FILE');
    expect(err.message).not.toMatch(/PHANTOM/);
  });
});
