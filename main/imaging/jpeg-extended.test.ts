// Runs in tests. Resight's sequential DCT JPEG decoder on streams dcmtk writes (dcmcjpeg +ee) and on
// streams a small encoder below writes for what dcmcjpeg cannot: restart intervals, 16-bit
// quantization tables, several components with sampling factors, interleaved or not. The grey
// results are checked against dcmtk's dcmdjpeg; near-lossless colour against its own source.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import dicomParser from 'dicom-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResightError } from '../../preload/api';
import { samplesDir } from '../testing/fixtures';
import { decodeJpegBaseline } from './codecs';
import { decodeJpegExtended } from './jpeg-extended';
import { fixturesScript, makeSources } from './testdata/fixtures';

const EXTENDED = '1.2.840.10008.1.2.4.51';

function encapsulated(file: string): Uint8Array {
  const ds = dicomParser.parseDicom(new Uint8Array(readFileSync(file)));
  const el = ds.elements['x7fe00010']!;
  return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, el.fragments!.length);
}

function nativePixels(file: string): { width: number; height: number; data: Uint16Array } {
  const ds = dicomParser.parseDicom(new Uint8Array(readFileSync(file)));
  const el = ds.elements['x7fe00010']!;
  const data = new Uint16Array(ds.byteArray.slice(el.dataOffset, el.dataOffset + el.length).buffer);
  return { width: ds.uint16('x00280011')!, height: ds.uint16('x00280010')!, data };
}

const samples = (out: { bytes: Uint8Array }): Uint16Array => new Uint16Array(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength / 2);

function agreement(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; exact: number } {
  let max = 0;
  let equal = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    if (d === 0) equal++;
  }
  return { max, exact: equal / a.length };
}

// ───────────── a minimal 12-bit sequential encoder (T.81 annex F), for tests only ─────────────

interface EncodeComponent {
  h: number;
  v: number;
  /** Samples at the component's own resolution: ceil(width · h / hmax) × ceil(height · v / vmax). */
  data: Uint16Array;
}

interface EncodeOptions {
  width: number;
  height: number;
  components: EncodeComponent[];
  /** Quantization step, the same for every coefficient; written as a 16-bit table. */
  step: number;
  restartInterval: number;
  interleaved: boolean;
}

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37,
  44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];
// Fixed tables covering every symbol 12-bit data can need: DC categories 0..15 as 5-bit codes,
// AC end-of-block, sixteen-zeros and run/size pairs (sizes 1..14) as 8-bit codes.
const DC_SYMBOLS = Array.from({ length: 16 }, (_, i) => i);
const AC_SYMBOLS = [0x00, 0xf0, ...Array.from({ length: 16 * 14 }, (_, i) => ((i / 14) << 4) | ((i % 14) + 1))];

function encodeJpeg12(o: EncodeOptions): Uint8Array {
  const out: number[] = [];
  const segment = (marker: number, body: number[]): void => {
    out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  };
  const hmax = Math.max(...o.components.map((c) => c.h));
  const vmax = Math.max(...o.components.map((c) => c.v));
  out.push(0xff, 0xd8);
  segment(0xdb, [0x10, ...Array.from({ length: 64 }, () => [o.step >> 8, o.step & 0xff]).flat()]);
  segment(0xc1, [12, o.height >> 8, o.height & 0xff, o.width >> 8, o.width & 0xff, o.components.length, ...o.components.flatMap((c, i) => [i + 1, (c.h << 4) | c.v, 0])]);
  const dht = (tc: number, symbols: number[], length: number): void => {
    const counts = new Array<number>(16).fill(0);
    counts[length - 1] = symbols.length;
    segment(0xc4, [tc << 4, ...counts, ...symbols]);
  };
  dht(0, DC_SYMBOLS, 5);
  dht(1, AC_SYMBOLS, 8);
  if (o.restartInterval > 0) segment(0xdd, [o.restartInterval >> 8, o.restartInterval & 0xff]);

  let acc = 0;
  let bits = 0;
  const put = (value: number, n: number): void => {
    for (let i = n - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++bits === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0); // byte stuffing
        acc = 0;
        bits = 0;
      }
    }
  };
  const flush = (): void => {
    if (bits > 0) put(0x7f, 8 - bits); // pad with one bits
  };
  const category = (v: number): number => (v === 0 ? 0 : Math.floor(Math.log2(Math.abs(v))) + 1);
  const putValue = (v: number, s: number): void => put(v >= 0 ? v : v + (1 << s) - 1, s);

  const block = new Float64Array(64);
  const encodeBlock = (c: EncodeComponent, pred: { dc: number }, row: number, col: number): void => {
    const cw = Math.ceil((o.width * c.h) / hmax);
    const ch = Math.ceil((o.height * c.v) / vmax);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        // Edge blocks repeat the last column and row (T.81 A.2.4 leaves the padding to the encoder).
        const sy = Math.min(row * 8 + y, ch - 1);
        const sx = Math.min(col * 8 + x, cw - 1);
        block[y * 8 + x] = c.data[sy * cw + sx]! - 2048;
      }
    }
    const q = new Array<number>(64);
    for (let v = 0; v < 8; v++) {
      for (let u = 0; u < 8; u++) {
        let s = 0;
        for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += block[y * 8 + x]! * Math.cos(((2 * x + 1) * u * Math.PI) / 16) * Math.cos(((2 * y + 1) * v * Math.PI) / 16);
        s *= ((u === 0 ? Math.SQRT1_2 : 1) * (v === 0 ? Math.SQRT1_2 : 1)) / 4;
        q[v * 8 + u] = Math.round(s / o.step);
      }
    }
    const diff = q[0]! - pred.dc;
    pred.dc = q[0]!;
    const s = category(diff);
    put(s, 5);
    putValue(diff, s);
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = q[ZIGZAG[k]!]!;
      if (v === 0) {
        run++;
        continue;
      }
      for (; run > 15; run -= 16) put(AC_SYMBOLS.indexOf(0xf0), 8);
      const size = category(v);
      put(AC_SYMBOLS.indexOf((run << 4) | size), 8);
      putValue(v, size);
      run = 0;
    }
    if (run > 0) put(0, 8); // end of block
  };

  const scans = o.interleaved ? [o.components] : o.components.map((c) => [c]);
  for (const scan of scans) {
    segment(0xda, [scan.length, ...scan.flatMap((c) => [o.components.indexOf(c) + 1, 0x00]), 0, 63, 0]);
    const preds = scan.map(() => ({ dc: 0 }));
    const mcus: Array<() => void> = [];
    if (scan.length === 1) {
      const c = scan[0]!;
      const wide = Math.ceil(Math.ceil((o.width * c.h) / hmax) / 8);
      const high = Math.ceil(Math.ceil((o.height * c.v) / vmax) / 8);
      for (let row = 0; row < high; row++) for (let col = 0; col < wide; col++) mcus.push(() => encodeBlock(c, preds[0]!, row, col));
    } else {
      for (let mrow = 0; mrow < Math.ceil(o.height / (8 * vmax)); mrow++) {
        for (let mcol = 0; mcol < Math.ceil(o.width / (8 * hmax)); mcol++) {
          mcus.push(() =>
            scan.forEach((c, i) => {
              for (let by = 0; by < c.v; by++) for (let bx = 0; bx < c.h; bx++) encodeBlock(c, preds[i]!, mrow * c.v + by, mcol * c.h + bx);
            }),
          );
        }
      }
    }
    mcus.forEach((mcu, i) => {
      if (o.restartInterval > 0 && i > 0 && i % o.restartInterval === 0) {
        flush();
        out.push(0xff, 0xd0 + ((i / o.restartInterval - 1) & 7));
        for (const p of preds) p.dc = 0;
      }
      mcu();
    });
    flush();
  }
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

// ─────────────────────────────────────────── tests ───────────────────────────────────────────

let dir: string;
let grey12: { width: number; height: number; data: Uint16Array };
let dcmtkStream: Uint8Array;

beforeAll(() => {
  const sources = makeSources();
  dir = sources.dir;
  grey12 = nativePixels(sources.file('grey12'));
  execFileSync('dcmcjpeg', ['+ee', sources.file('grey12'), path.join(dir, 'grey12.extended.dcm')]);
  dcmtkStream = encapsulated(path.join(dir, 'grey12.extended.dcm'));
});

/** dcmtk's decode of a stream, wrapped like the grey12 source. */
function dcmdjpeg(stream: Uint8Array, name: string): Uint16Array {
  const raw = path.join(dir, `${name}.jpg`);
  writeFileSync(raw, stream);
  execFileSync('/usr/bin/python3', [fixturesScript, 'wrap', raw, path.join(dir, 'grey12.dcm'), EXTENDED, path.join(dir, `${name}.dcm`)]);
  execFileSync('dcmdjpeg', [path.join(dir, `${name}.dcm`), path.join(dir, `${name}.native.dcm`)]);
  return nativePixels(path.join(dir, `${name}.native.dcm`)).data;
}

describe('JPEG Extended 12-bit decoder', () => {
  it('decodes dcmcjpeg +ee output, fill bytes before EOI included, within a grey level of dcmdjpeg', async () => {
    // dcmcjpeg ends the entropy-coded data with a fill byte: ff ff d9.
    expect([...dcmtkStream.subarray(-3)]).toEqual([0xff, 0xff, 0xd9]);
    const out = await decodeJpegBaseline(dcmtkStream);
    expect(out).toMatchObject({ width: 67, height: 53, components: 1, bytesPerSample: 2, signed: false, bits: 12 });
    const { max, exact } = agreement(samples(out), dcmdjpeg(dcmtkStream, 'dcmtk'));
    expect(max).toBeLessThanOrEqual(1);
    expect(exact).toBeGreaterThanOrEqual(0.97);
  });

  it('honours restart intervals (RST0–7 wrapping) and 16-bit quantization tables', () => {
    const base = { width: grey12.width, height: grey12.height, components: [{ h: 1, v: 1, data: grey12.data }], step: 3, interleaved: true };
    const plain = samples(decodeJpegExtended(encodeJpeg12({ ...base, restartInterval: 0 })));
    // 9 × 7 MCUs: intervals of 1 and 5 go round the eight RST markers several times, 4 ends mid-row.
    for (const restartInterval of [1, 4, 5]) {
      const stream = encodeJpeg12({ ...base, restartInterval });
      expect(stream.filter((b, i) => b === 0xff && stream[i + 1]! >= 0xd0 && stream[i + 1]! <= 0xd7).length).toBe(Math.ceil(63 / restartInterval) - 1);
      const ours = samples(decodeJpegExtended(stream));
      expect(Buffer.from(ours.buffer).equals(Buffer.from(plain.buffer)), `interval ${restartInterval}`).toBe(true);
      const { max, exact } = agreement(ours, dcmdjpeg(stream, `rst${restartInterval}`));
      expect(max).toBeLessThanOrEqual(1);
      expect(exact).toBeGreaterThanOrEqual(0.97);
    }
    // Near-lossless (step 1): the decode is within two levels of the source itself.
    expect(agreement(samples(decodeJpegExtended(encodeJpeg12({ ...base, step: 1, restartInterval: 2 }))), grey12.data).max).toBeLessThanOrEqual(2);
  });

  it('decodes three components with sampling factors, interleaved or one scan each, YCbCr to RGB', () => {
    const { width, height } = grey12;
    const cw = Math.ceil(width / 2);
    const ch = Math.ceil(height / 2);
    // Chroma at half resolution both ways (4:2:0), smooth ramps around the 12-bit centre.
    const cb = new Uint16Array(cw * ch).map((_, i) => 2048 + ((i % cw) * 9 - 200));
    const cr = new Uint16Array(cw * ch).map((_, i) => 2048 - (Math.floor(i / cw) * 11 - 150));
    const components = [
      { h: 2, v: 2, data: grey12.data },
      { h: 1, v: 1, data: cb },
      { h: 1, v: 1, data: cr },
    ];
    const interleaved = decodeJpegExtended(encodeJpeg12({ width, height, components, step: 1, restartInterval: 3, interleaved: true }));
    const separate = decodeJpegExtended(encodeJpeg12({ width, height, components, step: 1, restartInterval: 0, interleaved: false }));
    expect(interleaved).toMatchObject({ width, height, components: 3, bits: 12 });
    expect(Buffer.from(separate.bytes).equals(Buffer.from(interleaved.bytes))).toBe(true);
    const rgb = samples(interleaved);
    let worst = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const c = (y >> 1) * cw + (x >> 1);
        const l = grey12.data[y * width + x]!;
        const b = cb[c]! - 2048;
        const r = cr[c]! - 2048;
        const expected = [l + 1.402 * r, l - 0.344136 * b - 0.714136 * r, l + 1.772 * b].map((v) => Math.min(4095, Math.max(0, Math.round(v))));
        for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(rgb[3 * (y * width + x) + k]! - expected[k]!));
      }
    }
    // Measured: 1. Each plane is within a level of its source and the transform could spread that.
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('throws a typed error, never hangs, on a truncated or damaged stream', () => {
    const expectDecodeFailed = (stream: Uint8Array, label: string): void => {
      try {
        decodeJpegExtended(stream);
      } catch (err) {
        expect(err, label).toBeInstanceOf(ResightError);
        expect((err as ResightError).code, label).toMatch(/^(DECODE_FAILED|IMAGE_TOO_LARGE)$/);
        return;
      }
      if (label.startsWith('cut')) throw new Error(`${label}: decoded a truncated stream`);
    };
    // Every cut before the end of the entropy-coded data is refused.
    for (let n = 0; n < dcmtkStream.length - 3; n += 7) expectDecodeFailed(dcmtkStream.subarray(0, n), `cut at ${n}`);
    expect(() => decodeJpegExtended(dcmtkStream.subarray(0, dcmtkStream.length >> 1))).toThrow(/damaged/);
    // Flipped bytes anywhere: an image or a typed error, quickly.
    let seed = 7;
    const started = performance.now();
    for (let i = 0; i < 2000; i++) {
      const damaged = dcmtkStream.slice();
      for (let k = 0; k < 3; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        damaged[seed % damaged.length] = seed >>> 24;
      }
      expectDecodeFailed(damaged, `damaged ${i}`);
    }
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('refuses progressive, lossless and arithmetic streams, naming the coding', async () => {
    const sof = (marker: number): Uint8Array => {
      const s = dcmtkStream.slice();
      for (let i = 2; i + 1 < s.length; i++) {
        if (s[i] === 0xff && (s[i + 1] === 0xc0 || s[i + 1] === 0xc1)) {
          s[i + 1] = marker;
          return s;
        }
      }
      throw new Error('no SOF');
    };
    await expect(decodeJpegBaseline(sof(0xc2))).rejects.toMatchObject({ code: 'DECODE_FAILED', message: expect.stringContaining('progressive coding') });
    await expect(decodeJpegBaseline(sof(0xc3))).rejects.toMatchObject({ code: 'DECODE_FAILED', message: expect.stringContaining('lossless coding') });
    await expect(decodeJpegBaseline(sof(0xc9))).rejects.toMatchObject({ code: 'DECODE_FAILED', message: expect.stringContaining('arithmetic coding') });
    // A real progressive stream, as dcmtk writes it.
    execFileSync('dcmcjpeg', ['+ep', path.join(dir, 'grey12.dcm'), path.join(dir, 'grey12.progressive.dcm')]);
    await expect(decodeJpegBaseline(encapsulated(path.join(dir, 'grey12.progressive.dcm')))).rejects.toMatchObject({ message: expect.stringContaining('progressive') });
  });

  it('decodes 8-bit streams within a grey level of libjpeg-turbo, which the product uses for them', async () => {
    execFileSync('dcmcjpeg', ['+ee', path.join(dir, 'grey8.dcm'), path.join(dir, 'grey8.extended.dcm')]);
    const stream = encapsulated(path.join(dir, 'grey8.extended.dcm'));
    const ours = decodeJpegExtended(stream);
    const turbo = await decodeJpegBaseline(stream);
    expect(ours).toMatchObject({ width: turbo.width, height: turbo.height, bits: 8 });
    const { max, exact } = agreement(samples(ours), turbo.bytes);
    // Measured: 99.7% equal.
    expect(max).toBeLessThanOrEqual(1);
    expect(exact).toBeGreaterThanOrEqual(0.99);
  });

  it('refuses a header whose size the stream cannot hold before allocating for it', () => {
    const s = dcmtkStream.slice();
    const at = s.findIndex((b, i) => b === 0xff && s[i + 1] === 0xc1);
    s.set([0xff, 0xff, 0xff, 0xff], at + 5); // 65535 × 65535
    expect(() => decodeJpegExtended(s)).toThrow(ResightError);
  });

  const cr = path.join(samplesDir, 'cxr-normal-cr.dcm');
  it.skipIf(!existsSync(cr))('decodes a 12-bit CR radiograph within a grey level of dcmdjpeg', () => {
    const src = cr;
    const enc = path.join(dir, 'cr.extended.dcm');
    execFileSync('dcmcjpeg', ['+ee', src, enc]);
    execFileSync('dcmdjpeg', [enc, path.join(dir, 'cr.native.dcm')]);
    const out = decodeJpegExtended(encapsulated(enc));
    expect(out).toMatchObject({ width: 640, height: 768, bits: 12 });
    const { max, exact } = agreement(samples(out), nativePixels(path.join(dir, 'cr.native.dcm')).data);
    expect(max).toBeLessThanOrEqual(1);
    expect(exact).toBeGreaterThanOrEqual(0.99);
  });
});
