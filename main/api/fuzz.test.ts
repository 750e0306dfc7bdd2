// Runs in Vitest (Node). Every call the backend serves gets seeded random and hostile arguments
// through dispatch (what every front door runs) and through the Electron IPC handler, against the
// real backend: SQLite file, ONNX in the host process, real samples and models (copied into a
// sandbox). Each answer must be a typed envelope, never INTERNAL; nothing is written outside the
// data folder; the database stays intact; the backend still works afterwards.
import { linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodNames, type MethodName } from '../../preload/api';
import { handleInvoke } from '../electron/ipc';
import { forkSpawner } from '../inference/host/fork';
import { hostEntry } from '../testing/fixtures';
import {
  cloneOnlyValues,
  envelopeProblem,
  fuzzInput,
  fuzzSeed,
  hostilePaths,
  jsonHostileValues,
  makeSandbox,
  Rng,
  snapshot,
  snapshotDiff,
  type KnownGood,
  type Sandbox,
} from '../testing/fuzz';
import { createBackend, type Backend } from './backend';
import { dispatch, type CallContext } from './dispatch';

const SEED = fuzzSeed(0x5e1647);
const CALLS_PER_METHOD = 60;
/** No single refusal may take this long: reading /dev/urandom as a model card once took 14 s. */
const SLOW_CALL_MS = 5_000;
const ctx: CallContext = { frontDoor: 'electron', reader: 'fuzzer' };

let box: Sandbox;
let backend: Backend;
let served: MethodName[];
let good: KnownGood;
let before: Map<string, string>;
const logLines: string[] = [];

async function ok<T>(method: MethodName, input: unknown): Promise<T> {
  const env = await dispatch(backend.handlers, method, input, ctx);
  if (!env.ok) throw new Error(`${method} failed in setup: ${env.error.code} ${env.error.message}`);
  return env.value as T;
}

beforeAll(async () => {
  box = makeSandbox('resight-fuzz-api-');
  backend = await createBackend({
    dataDir: box.dataDir,
    modelsDir: box.modelsDir,
    samplesDir: box.samplesDir,
    frontDoor: 'electron',
    hostSpawner: forkSpawner(hostEntry),
    log: (line) => logLines.push(line),
    inference: { provider: 'cpu', threads: 1 },
  });
  served = methodNames.filter((m) => typeof backend.handlers[m] === 'function');
  const samples = await ok<Array<{ name: string }>>('studies.listSamples', {});
  const opened = await Promise.all(samples.slice(0, 2).map((s) => ok<{ imageId: string }>('studies.openSample', { name: s.name })));
  const result = await ok<{ resultId: number; findings: Array<{ labelId: string }> }>('inference.run', { imageId: opened[0]!.imageId });
  // A second copy of the bundled model under a new version, in its own folder: importable once.
  const card = readdirSync(box.modelsDir).find((n) => n.endsWith('.json'))!;
  const cardJson = JSON.parse(readFileSync(path.join(box.modelsDir, card), 'utf8')) as { file: string; version: string };
  const importDir = path.join(box.root, 'import');
  mkdirSync(importDir);
  linkSync(path.join(box.modelsDir, cardJson.file), path.join(importDir, cardJson.file));
  writeFileSync(path.join(importDir, card), JSON.stringify({ ...cardJson, version: `${cardJson.version}-fuzz` }));
  good = {
    imageIds: opened.map((o) => o.imageId),
    sampleNames: samples.map((s) => s.name),
    resultIds: [result.resultId],
    labelIds: result.findings.map((f) => f.labelId),
    filePaths: samples.map((s) => path.join(box.samplesDir, s.name)),
    cardPaths: [path.join(importDir, card), path.join(box.modelsDir, card)],
  };
  before = snapshot(box.root, box.dataDir);
});

afterAll(async () => {
  await backend?.close();
  box?.remove();
});

/** Runs `calls` in small concurrent batches; returns one line per bad answer. */
async function runAll(calls: Array<{ label: string; run: () => Promise<unknown> }>): Promise<string[]> {
  const problems: string[] = [];
  for (let i = 0; i < calls.length; i += 4) {
    await Promise.all(
      calls.slice(i, i + 4).map(async ({ label, run }) => {
        let answer: unknown;
        const started = Date.now();
        try {
          answer = await run();
        } catch (err) {
          problems.push(`${label}: threw ${err instanceof Error ? err.name : typeof err}`);
          return;
        }
        if (Date.now() - started > SLOW_CALL_MS) problems.push(`${label}: took ${Date.now() - started} ms`);
        const problem = envelopeProblem(answer);
        if (problem) problems.push(`${label}: ${problem}`);
        else if ((answer as { ok: boolean; error?: { code: string } }).error?.code === 'INTERNAL') problems.push(`${label}: INTERNAL`);
      }),
    );
  }
  return problems;
}

describe(`API fuzzing through dispatch and IPC (seed ${SEED}; rerun with RESIGHT_FUZZ_SEED=${SEED})`, () => {
  it('answers every hostile call with a typed envelope and a specific code', async () => {
    const rng = new Rng(SEED);
    const hostile = [...jsonHostileValues(box), ...cloneOnlyValues()];
    const paths = hostilePaths(box);
    const calls: Array<{ label: string; run: () => Promise<unknown> }> = [];
    for (let i = 0; i < CALLS_PER_METHOD; i++) {
      for (const method of served) {
        const input = fuzzInput(rng, method, hostile, paths, good);
        const label = `#${calls.length} ${method}`;
        calls.push({ label, run: () => dispatch(backend.handlers, method, input, ctx, (line) => logLines.push(line)) });
      }
    }
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'studies', 'studies.openFile\u0000', 'STUDIES.OPENFILE', 42, null, undefined, {}, ['app.info']]) {
      calls.push({ label: `method name ${String(name)}`, run: () => dispatch(backend.handlers, name, {}, ctx) });
    }
    const problems = await runAll(calls);
    expect(problems, `seed ${SEED}`).toEqual([]);
    expect(calls.length).toBeGreaterThan(served.length * CALLS_PER_METHOD);
  });

  it('runs hostile calls from the app frame through IPC, and refuses every call from any other frame', async () => {
    const rng = new Rng(SEED + 1);
    const hostile = [...jsonHostileValues(box), ...cloneOnlyValues()];
    const paths = hostilePaths(box);
    const deps = { handlers: backend.handlers, reader: 'fuzzer', log: (line: string) => logLines.push(line) };
    const app = { senderFrame: { url: 'resight://app/index.html' } };
    const strangers = [{ senderFrame: { url: 'https://evil.example/' } }, { senderFrame: { url: 'file:///tmp/x.html' } }, { senderFrame: null }];
    const calls: Array<{ label: string; run: () => Promise<unknown> }> = [];
    const refused: Array<Promise<unknown>> = [];
    for (let i = 0; i < 10; i++) {
      for (const method of served) {
        const input = fuzzInput(rng, method, hostile, paths, good);
        calls.push({ label: `ipc #${calls.length} ${method}`, run: () => handleInvoke(deps, app, method, input) });
        refused.push(handleInvoke(deps, rng.pick(strangers), method, input));
      }
    }
    expect(await runAll(calls), `seed ${SEED + 1}`).toEqual([]);
    for (const answer of await Promise.all(refused)) expect(answer).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('leaves no trace outside the data folder, no polluted prototypes and an intact database', async () => {
    expect(snapshotDiff(before, snapshot(box.root, box.dataDir))).toEqual([]);
    expect(readFileSync(path.join(box.outsideDir, 'canary.txt'), 'utf8')).toBe('must stay as it is');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect(backend.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(backend.store.db.pragma('foreign_key_check')).toEqual([]);
    // Nothing logged carries the hostile strings back out (paths, markup, patient-like text).
    expect(logLines.filter((l) => /canary|passwd|<script>|DROP TABLE/.test(l))).toEqual([]);
  });

  it('still serves real work after the storm', async () => {
    const info = await ok<{ name: string }>('app.info', {});
    expect(info.name).toBe('Resight');
    const again = await ok<{ findings: unknown[] }>('inference.run', { imageId: good.imageIds[1] });
    expect(again.findings.length).toBeGreaterThan(0);
    const saved = await ok<{ verdict: string }>('feedback.save', { imageId: good.imageIds[0], verdict: 'agree', note: 'after fuzzing' });
    expect(saved.verdict).toBe('agree');
  });
});
