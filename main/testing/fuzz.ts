// Runs in tests only. Seeded generators of hostile API arguments, and a sandbox folder that holds
// copies of the models and samples, so a fuzz run can prove it wrote nothing outside its data folder.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { api, ErrorCode, type MethodName } from '../../preload/api';
import { modelsDir, samplesDir } from './fixtures';

/** A small, fast PRNG (mulberry32): the same seed gives the same run, so a failure reproduces. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** RESIGHT_FUZZ_SEED reruns a reported failure; otherwise a fixed seed keeps CI deterministic. */
export function fuzzSeed(fallback: number): number {
  const env = Number(process.env.RESIGHT_FUZZ_SEED);
  return Number.isInteger(env) ? env : fallback;
}

export interface Sandbox {
  root: string;
  dataDir: string;
  modelsDir: string;
  samplesDir: string;
  /** A folder nothing may write to: traversal targets point here. */
  outsideDir: string;
  /** Deletes the sandbox (it holds copies of the models, tens of MB). */
  remove(): void;
}

/** root/{data,models,samples,outside}: models and samples are copies, so the run owns every file. */
export function makeSandbox(prefix: string): Sandbox {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  const box: Sandbox = {
    root,
    dataDir: path.join(root, 'data'),
    modelsDir: path.join(root, 'models'),
    samplesDir: path.join(root, 'samples'),
    outsideDir: path.join(root, 'outside'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  cpSync(modelsDir, box.modelsDir, { recursive: true, filter: (src) => !src.includes(`${path.sep}training`) });
  cpSync(samplesDir, box.samplesDir, { recursive: true });
  mkdirSync(box.outsideDir);
  writeFileSync(path.join(box.outsideDir, 'canary.txt'), 'must stay as it is');
  return box;
}

/** Every file and folder under `dir` (except `skip`) with its size and modification time. */
export function snapshot(dir: string, skip: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      if (full === skip) continue;
      const s = statSync(full);
      out.set(full, `${s.isDirectory() ? 'dir' : s.size}:${s.mtimeMs}`);
      if (s.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

export function snapshotDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const [file, sig] of after) if (before.get(file) !== sig) changed.push(file);
  for (const file of before.keys()) if (!after.has(file)) changed.push(`${file} (removed)`);
  return changed;
}

/** Field names of a call's input object, read from its zod schema. */
export function inputFields(method: MethodName): string[] {
  const schema = api[method].input as z.ZodType & { shape?: Record<string, unknown> };
  return schema.shape ? Object.keys(schema.shape) : [];
}

const ERROR_CODES = new Set<string>(ErrorCode.options);

/** Why `value` is not a well-formed envelope, or null when it is one. */
export function envelopeProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const env = value as { ok?: unknown; value?: unknown; error?: { code?: unknown; message?: unknown } };
  if (env.ok === true) return 'value' in env ? null : 'ok without a value';
  if (env.ok !== false) return 'no ok flag';
  if (!env.error || typeof env.error.code !== 'string' || !ERROR_CODES.has(env.error.code)) return 'error without a known code';
  if (typeof env.error.message !== 'string' || env.error.message.length === 0) return 'error without a message';
  return null;
}

/** Values any transport can carry as JSON, chosen to break validators and handlers. */
export function jsonHostileValues(box: Sandbox): unknown[] {
  const deep = (depth: number): unknown => {
    let v: unknown = 'bottom';
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };
  return [
    null,
    true,
    false,
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    2 ** 53 + 1,
    '',
    ' ',
    'x'.repeat(300_000),
    '\u0000',
    '\ud800',
    '😀'.repeat(1000),
    '../../../../../../etc/passwd',
    `${box.dataDir}/../outside/canary.txt`,
    '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '..\\..\\..\\Windows\\win.ini',
    'file:///etc/passwd',
    '<script>alert(1)</script>',
    "'; DROP TABLE feedback; --",
    '0'.repeat(64),
    'F'.repeat(64),
    [],
    new Array(50_000).fill(1),
    {},
    JSON.parse('{"__proto__": {"polluted": "yes"}}') as unknown,
    { constructor: { prototype: { polluted: 'yes' } } },
    { toString: 'x', valueOf: 1, hasOwnProperty: null },
    deep(2_000),
  ];
}

/** Extra values only structured clone (Electron IPC) can carry. */
export function cloneOnlyValues(): unknown[] {
  const sparse: unknown[] = [];
  sparse[100_000] = 1;
  return [undefined, NaN, Infinity, -Infinity, -0, 10n ** 30n, new Date(0), new Uint8Array(1_000_000), new Map([['a', 1]]), new Set([1]), sparse, Object.create(null) as object];
}

/** Paths aimed at files the app must not write to, or must not read as an image. */
export function hostilePaths(box: Sandbox): string[] {
  return [
    `${box.dataDir}/../outside/canary.txt`,
    `${box.dataDir}/../../../../../../etc/passwd`,
    path.join(box.dataDir, 'resight.sqlite'),
    path.join(box.dataDir, 'resight.sqlite-wal'),
    box.dataDir,
    box.outsideDir,
    '/dev/zero',
    '/dev/urandom',
    '/proc/self/environ',
    '/proc/self/mem',
    `${box.samplesDir}/../models/../samples/./README.md`,
    `${box.root}/${'a/'.repeat(1_500)}x.dcm`,
    '\\\\server\\share\\study.dcm',
    'C:\\Windows\\System32\\config\\SAM',
    'relative/../path.dcm',
    `${box.outsideDir}/missing.json`,
  ];
}

/** What the fuzzer knows of valid values, so some calls get past validation into the handlers. */
export interface KnownGood {
  imageIds: string[];
  sampleNames: string[];
  resultIds: number[];
  labelIds: string[];
  filePaths: string[];
  cardPaths: string[];
}

/** A field's schema with optional/default/nullable wrappers removed (zod 4 internals, read only). */
interface SchemaCore {
  type: string;
  options?: readonly unknown[];
}
function fieldCore(method: MethodName, field: string): SchemaCore {
  const shape = (api[method].input as unknown as { shape?: Record<string, unknown> }).shape ?? {};
  let node = shape[field] as { _zod?: { def?: { type?: string; innerType?: unknown; values?: unknown[] } }; options?: unknown[] } | undefined;
  while (node?._zod?.def?.innerType) node = node._zod.def.innerType as typeof node;
  const def = node?._zod?.def;
  return { type: def?.type ?? 'unknown', ...(node?.options ? { options: node.options } : def?.values ? { options: def.values } : {}) };
}

/**
 * One input for `method`. Most are well-formed but for one hostile field, so the hostile value
 * reaches the handler; some are hostile throughout, some are hostile as a whole.
 */
export function fuzzInput(rng: Rng, method: MethodName, hostile: unknown[], paths: string[], good: KnownGood): unknown {
  const roll = rng.next();
  if (roll < 0.15) return rng.pick(hostile);
  const fields = inputFields(method);
  const input: Record<string, unknown> = {};
  if (roll < 0.75) {
    for (const field of fields) input[field] = guess(rng, method, field, good);
    if (fields.length && rng.chance(0.8)) {
      const target = rng.pick(fields);
      input[target] = target.toLowerCase().includes('path') && rng.chance(0.6) ? rng.pick(paths) : rng.pick(hostile);
    }
  } else {
    for (const field of fields) {
      if (rng.chance(0.2)) continue;
      input[field] = rng.chance(0.4) ? rng.pick(hostile) : guess(rng, method, field, good);
    }
  }
  if (rng.chance(0.2)) {
    const key = rng.pick(['__proto__', 'constructor', 'prototype', 'extra', 'toString']);
    Object.defineProperty(input, key, { value: rng.pick(hostile), enumerable: true, configurable: true, writable: true });
  }
  return input;
}

/**
 * Valid choices that make a call slow by design: occlusion runs the model hundreds of times, with
 * progress and cancellation (tested in the inference suite). The fuzzer leaves them out so its
 * time limit per call stays meaningful.
 */
const SLOW_ON_PURPOSE = new Set<unknown>(['occlusion']);

/** A plausible value for a field: from its schema where it is an enum, else from what is known to exist. */
function guess(rng: Rng, method: MethodName, field: string, good: KnownGood): unknown {
  const core = fieldCore(method, field);
  if (core.options?.length) return rng.pick(core.options.filter((o) => !SLOW_ON_PURPOSE.has(o)));
  if (core.type === 'boolean') return rng.chance(0.5);
  const lower = field.toLowerCase();
  if (lower.includes('path')) {
    const real = lower.includes('card') ? good.cardPaths : good.filePaths;
    return real.length ? rng.pick(real) : '/nonexistent';
  }
  if (lower === 'imageid' && good.imageIds.length) return rng.pick(good.imageIds);
  if (lower === 'name' && good.sampleNames.length) return rng.chance(0.5) ? rng.pick(good.sampleNames) : rng.pick(['../../package.json', '..', '.', 'README.md', `${good.sampleNames[0]}/../../x`]);
  if (lower === 'resultid') return good.resultIds.length && rng.chance(0.7) ? rng.pick(good.resultIds) : rng.pick([1, 2 ** 31, 2 ** 53 - 1]);
  if (lower.includes('label')) return good.labelIds.length && rng.chance(0.7) ? rng.pick(good.labelIds) : rng.pick(['', 'x'.repeat(129), 'nonexistent']);
  if (lower === 'frame') return rng.pick([0, 0, 1, 99, 2 ** 31]);
  if (lower === 'threads') return rng.pick([1, 2, 0, 257, 1.5]);
  if (core.type === 'number') return rng.pick([1, 2, 0, -1, 1000]);
  if (core.type === 'array') return [];
  if (core.type === 'nullable' || core.type === 'null') return null;
  if (lower.includes('id')) return rng.pick(['x', 'x'.repeat(65), '1.0.0', 'test-random', 1]);
  return rng.pick(['a', 'Dr. Fuzz', 'b'.repeat(200), 'note']);
}
