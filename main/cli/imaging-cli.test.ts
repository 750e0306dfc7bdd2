// Runs in tests. `resight info`, `resight decode` and `resight render` as other checks call them:
// arrays against pydicom + GDCM, renderings against dcmtk's dcm2pnm, errors as one typed line.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../imaging/npy';
import { makeFixtures, type Fixtures } from '../imaging/testdata/fixtures';
import { runCli } from '../testing/cli';
import { repoRoot, samplesDir } from '../testing/fixtures';

const sampleFilms = (() => {
  try {
    return readdirSync(samplesDir).filter((f) => f.endsWith('.dcm'));
  } catch {
    return [];
  }
})();

const run = runCli;

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures();
}, 120_000);

const grey = async (file: string): Promise<Buffer> => sharp(file).toColourspace('b-w').raw().toBuffer();

describe('resight info', () => {
  it('prints the attributes decoding and display depend on', async () => {
    const r = await run('info', fx.file('grey12.j2k'), '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({
      transferSyntaxUID: '1.2.840.10008.1.2.4.90',
      rows: 53,
      columns: 67,
      frames: 1,
      samplesPerPixel: 1,
      bitsAllocated: 16,
      bitsStored: 12,
      pixelRepresentation: 0,
      photometricInterpretation: 'MONOCHROME2',
      modality: 'DX',
      windows: [
        { center: 2048, width: 4096, explanation: 'FULL' },
        { center: 1000, width: 800, explanation: 'LUNG' },
      ],
      voiLutFunction: 'LINEAR',
      pixelSpacing: null,
      imagerPixelSpacing: [0.15, 0.15],
    });
    expect(r.stdout).not.toContain('PHANTOM');
    const sig = JSON.parse((await run('info', fx.file('sigmoid'), '--json')).stdout);
    expect(sig.voiLutFunction).toBe('SIGMOID');
    expect(JSON.parse((await run('info', fx.file('multi.rle'), '--json')).stdout).frames).toBe(3);
  });
});

describe('resight decode', () => {
  it('writes stored values as .npy equal to pydicom + GDCM, with dtype and shape by the file', async () => {
    for (const [name, dtype, shape] of [
      ['signed16.jpegls', '<i2', [53, 67]],
      ['grey12.j2k', '<u2', [53, 67]],
      ['grey8.jpeg-sv1', '|u1', [53, 67]],
      ['rgb.rle', '|u1', [53, 67, 3]],
    ] as const) {
      const out = path.join(fx.dir, `${name}.out.npy`);
      const r = await run('decode', fx.file(name), '--out', out);
      expect(r.code, r.stderr).toBe(0);
      const ours = decodeNpy(new Uint8Array(readFileSync(out)));
      const ref = fx.reference(name);
      expect(ours.descr, name).toBe(dtype);
      expect(ours.shape, name).toEqual(shape);
      expect(Buffer.from(ours.data.buffer).equals(Buffer.from(ref.data.buffer)), name).toBe(true);
    }
    // numpy reads the file back with the same dtype and shape.
    const check = execFileSync('/usr/bin/python3', ['-c', `import numpy as np; a = np.load(${JSON.stringify(path.join(fx.dir, 'rgb.rle.out.npy'))}); print(a.dtype, a.shape)`]).toString();
    expect(check.trim()).toBe('uint8 (53, 67, 3)');
  });

  it('writes float32 values after the Modality LUT, and picks frames from 0', async () => {
    const out = path.join(fx.dir, 'ct.npy');
    expect((await run('decode', fx.file('signed16.rle'), '--stage', 'modality', '--out', out)).code).toBe(0);
    const modality = decodeNpy(new Uint8Array(readFileSync(out)));
    const stored = fx.reference('signed16.rle').data as Int16Array;
    expect(modality.descr).toBe('<f4');
    expect(Array.from((modality.data as Float32Array).subarray(0, 50))).toEqual(Array.from(stored.subarray(0, 50), (v) => v - 1024));

    const lut = path.join(fx.dir, 'lut.npy');
    expect((await run('decode', fx.file('modality-lut'), '--stage', 'modality', '--out', lut)).code).toBe(0);
    const viaLut = decodeNpy(new Uint8Array(readFileSync(lut))).data as Float32Array;
    const raw = fx.reference('modality-lut').data as Uint16Array;
    for (const i of [0, 17, 999]) expect(viaLut[i]).toBe(Math.round(Math.sqrt(raw[i]! / 4095) * 60000));

    const f2 = path.join(fx.dir, 'f2.npy');
    expect((await run('decode', fx.file('multi.rle'), '--frame', '2', '--out', f2)).code).toBe(0);
    const ref = fx.reference('multi.rle').data as Uint16Array;
    const frame = decodeNpy(new Uint8Array(readFileSync(f2))).data as Uint16Array;
    expect(Buffer.from(frame.buffer).equals(Buffer.from(ref.buffer, 2 * 53 * 67 * 2, 53 * 67 * 2))).toBe(true);
  });
});

describe('resight render', () => {
  // [fixture, our flags, dcm2pnm flags]
  const cases: Array<[string, string[], string[]]> = [
    ['mono1', [], ['+Wi', '1']],
    ['mono1.jpeg-lossless', ['--window', '1000,1200'], ['+Ww', '1000', '1200']],
    ['grey12.rle', [], ['+Wi', '1']],
    ['sigmoid', [], ['+Wi', '1', '+Wfs']],
    ['sigmoid', ['--window', '1000,500'], ['+Ww', '1000', '500', '+Wfs']],
    ['inverse', [], ['+Wi', '1']],
    ['modality-lut', [], ['+Wi', '1']],
    ['voi-lut', [], ['+Wl', '1']],
    ['signed16.rle', ['--window', '40,400'], ['+Ww', '40', '400']],
  ];
  it('matches dcm2pnm within one grey level on at least 99.9% of pixels', async () => {
    for (const [name, ours, theirs] of cases) {
      const mine = path.join(fx.dir, `${name}.${ours.join('_')}.ours.png`);
      const ref = path.join(fx.dir, `${name}.${ours.join('_')}.dcmtk.png`);
      const r = await run('render', fx.file(name), ...ours, '--out', mine);
      expect(r.code, r.stderr).toBe(0);
      // dcm2pnm here reads native data only; lossless encodings decode to their source's pixels.
      execFileSync('dcm2pnm', [...theirs, '+on', fx.file(name.split('.')[0]!), ref]);
      const a = await grey(mine);
      const b = await grey(ref);
      expect(a.length, name).toBe(53 * 67);
      let close = 0;
      for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) <= 1) close++;
      expect(close / a.length, `${name} ${ours.join(' ')}`).toBeGreaterThanOrEqual(0.999);
    }
  });

  it.skipIf(sampleFilms.length === 0)('matches dcm2pnm on the sample radiographs under their own window', async () => {
    for (const film of sampleFilms) {
      const mine = path.join(fx.dir, `${film}.ours.png`);
      const ref = path.join(fx.dir, `${film}.dcmtk.png`);
      expect((await run('render', path.join(samplesDir, film), '--out', mine)).code).toBe(0);
      execFileSync('dcm2pnm', ['+Wi', '1', '+on', path.join(samplesDir, film), ref]);
      const a = await grey(mine);
      const b = await grey(ref);
      expect(a.length, film).toBe(b.length);
      let close = 0;
      for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) <= 1) close++;
      expect(close / a.length, film).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('writes colour images as RGB at native resolution', async () => {
    const out = path.join(fx.dir, 'ybr.png');
    expect((await run('render', fx.file('ybr-full'), '--out', out)).code).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([67, 53, 3]);
  });
});

describe('imaging command errors', () => {
  it('exit non-zero with one line `error CODE: sentence` and no stack trace', async () => {
    const out = path.join(fx.dir, 'never.png');
    const cases: Array<[string[], string]> = [
      [['render', path.join(fx.dir, 'missing.dcm'), '--out', out], 'FILE_NOT_FOUND'],
      [['render', fx.file('grey12'), '--window', 'wide', '--out', out], 'INVALID_ARGUMENT'],
      [['render', fx.file('grey12'), '--window', '40,0', '--out', out], 'INVALID_ARGUMENT'],
      [['decode', fx.file('grey12'), '--frame', '1', '--out', out], 'NOT_FOUND'],
      [['decode', fx.file('grey12'), '--stage', 'display', '--out', out], 'INVALID_ARGUMENT'],
      [['decode', fx.file('grey12')], 'INVALID_ARGUMENT'],
      [['info', path.join(repoRoot, 'package.json'), '--json'], 'UNSUPPORTED_FORMAT'],
    ];
    for (const [args, code] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toMatch(new RegExp(`^error ${code}: [A-Z].+\\.$`));
    }
  });
});
