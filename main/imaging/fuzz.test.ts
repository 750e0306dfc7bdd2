// Runs in tests. Thousands of damaged DICOM files (truncated, bytes flipped, lengths and VRs
// corrupted, absurd declared sizes) through load + decode in the worker pool: each one ends in a
// typed error or an image, within its time limit, and the pool still decodes good files afterwards.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, ResightError } from '../../preload/api';
import { loadImage } from './load';
import { DecodePool } from './pool';
import { makeFixtures, type Fixtures } from './testdata/fixtures';

const CASES = Number(process.env.RESIGHT_FUZZ_CASES ?? 2400);
const SEEDS = [
  'grey12',
  'mono1.implicit',
  'grey12.big',
  'signed16.deflated',
  'grey12.rle',
  'rgb.rle',
  'multi.rle',
  'signed16.jpeg-lossless',
  'grey8.baseline',
  'rgb.baseline',
  'grey12.jpegls',
  'grey12.jpegls-near',
  'grey12.j2k',
  'rgb.j2k',
  'grey12.htj2k',
  'palette16',
  'ybr-422',
  'voi-lut',
  'modality-lut',
];

/** mulberry32: a seeded generator, so a failure names a case that can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Offsets of data elements in an explicit-VR file (tag, two VR letters): where lengths and VRs live. */
function elementOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 132; i + 8 < bytes.length && out.length < 200; i++) {
    const a = bytes[i + 4]!;
    const b = bytes[i + 5]!;
    if (a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a && (bytes[i + 1] === 0x00 || bytes[i] === 0x00)) out.push(i);
  }
  return out;
}

const TAGS_OF_SIZE: Array<[number, number]> = [
  [0x0028, 0x0010], // Rows
  [0x0028, 0x0011], // Columns
  [0x0028, 0x0100], // Bits Allocated
  [0x0028, 0x0101], // Bits Stored
  [0x0028, 0x0002], // Samples per Pixel
];

function mutate(seed: Uint8Array, random: () => number): Uint8Array {
  const bytes = seed.slice();
  const pick = (n: number): number => Math.floor(random() * n);
  const offsets = elementOffsets(bytes);
  switch (pick(6)) {
    case 0:
      return bytes.subarray(0, pick(bytes.length));
    case 1:
      for (let k = 0, n = 1 + pick(16); k < n; k++) bytes[pick(bytes.length)] = pick(256);
      return bytes;
    case 2: {
      // A corrupted value length: tiny, huge or undefined.
      const at = offsets[pick(offsets.length)];
      if (at === undefined) return bytes;
      const view = new DataView(bytes.buffer);
      const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'UC'].includes(String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!));
      const value = [0, 1, 0xffffffff, 0x7fffffff, pick(0xffffffff)][pick(5)]!;
      if (long) view.setUint32(at + 8, value, true);
      else view.setUint16(at + 6, value & 0xffff, true);
      return bytes;
    }
    case 3: {
      const at = offsets[pick(offsets.length)];
      if (at !== undefined) {
        bytes[at + 4] = 0x41 + pick(26);
        bytes[at + 5] = 0x41 + pick(26);
      }
      return bytes;
    }
    case 4: {
      // Absurd declared sizes: find the US attribute and overwrite its value.
      const [g, e] = TAGS_OF_SIZE[pick(TAGS_OF_SIZE.length)]!;
      const view = new DataView(bytes.buffer);
      for (const at of offsets) {
        if (view.getUint16(at, true) === g && view.getUint16(at + 2, true) === e) view.setUint16(at + 8, [0, 1, 3, 7, 33, 64, 0xffff][pick(7)]!, true);
      }
      return bytes;
    }
    default: {
      // Several kinds at once, mostly in the header where the structure is.
      for (let k = 0, n = 1 + pick(4); k < n; k++) bytes[132 + pick(Math.min(600, bytes.length - 132))] = pick(256);
      return random() < 0.5 ? bytes.subarray(0, bytes.length - pick(64)) : bytes;
    }
  }
}

let fx: Fixtures;
let pool: DecodePool;
beforeAll(async () => {
  fx = await makeFixtures();
  pool = new DecodePool({ size: 2, timeoutMs: 10_000 });
}, 120_000);
afterAll(async () => {
  await pool?.close();
});

describe('fuzzing load + decode', () => {
  it(`ends each of ${CASES} damaged files in a typed error or an image, and leaves the pool working`, async () => {
    const seeds = SEEDS.map((name) => new Uint8Array(readFileSync(fx.file(name))));
    const random = rng(20261126);
    const codes = new Map<string, number>();
    let decoded = 0;
    const started = Date.now();
    const limit = 64 * 1024 ** 2;
    // Two requests in flight per worker keep both workers busy while files are written.
    const inFlight = 4;
    let next = 0;
    const runOne = async (i: number, lane: number): Promise<void> => {
      const file = path.join(fx.dir, `fuzz-lane-${lane}.dcm`);
      writeFileSync(file, mutate(seeds[i % seeds.length]!, random));
      try {
        await loadImage(file, { pool, maxImageBytes: limit });
        decoded++;
      } catch (err) {
        if (!(err instanceof ResightError)) throw new Error(`case ${i} (seed ${SEEDS[i % SEEDS.length]}): untyped ${String(err)}`);
        expect(ErrorCode.options).toContain(err.code);
        expect(err.message, `case ${i}`).not.toMatch(/took too long/);
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
      }
    };
    // Each lane takes the next case and writes its own file, so nothing is overwritten in flight.
    const lanes = Array.from({ length: inFlight }, async (_, lane) => {
      for (let i = next++; i < CASES; i = next++) await runOne(i, lane);
    });
    await Promise.all(lanes);
    const seconds = (Date.now() - started) / 1000;
    console.log(`fuzz: ${CASES} cases in ${seconds.toFixed(1)} s; decoded ${decoded}; errors ${JSON.stringify(Object.fromEntries(codes))}; workers replaced ${pool.replaced}`);
    expect(decoded + [...codes.values()].reduce((a, b) => a + b, 0)).toBe(CASES);
    // Every kind of damage was seen, not only one.
    expect(codes.size).toBeGreaterThanOrEqual(4);
    // No worker is left dead: the pool still decodes a good file exactly.
    const good = await loadImage(fx.file('grey12.j2k'), { pool });
    expect(Buffer.from(good.storedFrame(0).buffer).equals(Buffer.from(fx.reference('grey12.j2k').data.buffer))).toBe(true);
    expect(pool.workers).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
