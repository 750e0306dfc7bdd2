// Runs in Vitest (Node). Hostile model files and cards: each is refused by loadModel and by the
// 'models.import' call with its own code and a sentence naming what is wrong, quickly, without
// writing anything outside the user's models folder. Works with whichever model
// main/testing/fixtures.ts points at (the bundled one, or RESIGHT_TEST_MODELS_DIR).
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../preload/api';
import { createBackend, type Backend } from '../api/backend';
import { dispatch } from '../api/dispatch';
import { makeSandbox, snapshot, snapshotDiff, type Sandbox } from '../testing/fuzz';
import { hostEntry } from '../testing/fixtures';
import { forkSpawner } from './host/fork';
import { loadModel, MAX_CARD_BYTES } from './registry';

interface Card {
  file: string;
  version: string;
  labels: Array<{ id: string; name: string }>;
  input: { height: number; width: number; channels: number; normalize: { mean: number[]; std: number[] } };
  cam: { weight: string };
  [key: string]: unknown;
}

let box: Sandbox;
let backend: Backend;
let card: Card;
let onnxPath: string;
let onnxBytes: Buffer;
let caseNo = 0;

/** A folder of its own holding `cardJson` (as given) and, unless `onnx` is null, a model file. */
function hostileCase(cardJson: unknown, onnx: Buffer | 'link' | null = 'link', cardText?: string): string {
  const dir = path.join(box.root, 'cases', String(caseNo++));
  mkdirSync(dir, { recursive: true });
  if (onnx === 'link') linkSync(onnxPath, path.join(dir, card.file));
  else if (onnx) writeFileSync(path.join(dir, card.file), onnx);
  const cardPath = path.join(dir, 'card.json');
  writeFileSync(cardPath, cardText ?? JSON.stringify(cardJson));
  return cardPath;
}

const withCard = (edit: (c: Card) => unknown): unknown => edit(structuredClone(card));

/** loadModel and 'models.import' both refuse the card with `code` and a message matching `says`. */
async function expectRefused(cardPath: string, code: ErrorCode, says: RegExp): Promise<void> {
  await expect(loadModel(cardPath)).rejects.toMatchObject({ code, message: expect.stringMatching(says) });
  const started = Date.now();
  const answer = await dispatch(backend.handlers, 'models.import', { cardPath }, { frontDoor: 'electron', reader: 'tester' });
  expect(answer).toMatchObject({ ok: false, error: { code, message: expect.stringMatching(says) } });
  expect(Date.now() - started).toBeLessThan(3_000);
}

beforeAll(async () => {
  box = makeSandbox('resight-malicious-model-');
  const cardFile = readdirSync(box.modelsDir).find((n) => n.endsWith('.json'))!;
  card = JSON.parse(readFileSync(path.join(box.modelsDir, cardFile), 'utf8')) as Card;
  onnxPath = path.join(box.modelsDir, card.file);
  onnxBytes = readFileSync(onnxPath);
  backend = await createBackend({
    dataDir: box.dataDir,
    modelsDir: box.modelsDir,
    samplesDir: box.samplesDir,
    frontDoor: 'electron',
    hostSpawner: forkSpawner(hostEntry),
    log: () => {},
  });
});

afterAll(async () => {
  await backend?.close();
  box?.remove();
});

describe('model files that are not what their card says', () => {
  it.each([
    ['plain text', Buffer.from('this is not an ONNX model\n')],
    ['an empty file', Buffer.alloc(0)],
    ['a PNG image', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')],
    ['a truncated ONNX file', null],
  ])('refuses %s in place of the ONNX file', async (_what, bytes) => {
    const data = bytes ?? onnxBytes.subarray(0, Math.floor(onnxBytes.length / 2));
    await expectRefused(hostileCase(withCard((c) => ({ ...c, sha256: undefined })), data), 'MODEL_FILE_INVALID', /not a valid ONNX model/);
  });

  it('refuses a model file whose sha256 does not match its card', async () => {
    await expectRefused(hostileCase(withCard((c) => ({ ...c, sha256: 'e'.repeat(64) }))), 'MODEL_FILE_INVALID', /does not match the checksum/);
  });

  it('refuses a card whose labels do not match the classifier weights', async () => {
    await expectRefused(hostileCase(withCard((c) => ({ ...c, labels: c.labels.slice(1) }))), 'MODEL_CARD_INVALID', /has shape \[\d+, \d+\], but the card lists \d+ labels/);
    await expectRefused(hostileCase(withCard((c) => ({ ...c, cam: { weight: 'no.such.weight' } }))), 'MODEL_CARD_INVALID', /no initializer of that name/);
  });

  it('refuses a card that names a special file as its model', async () => {
    const dir = path.join(box.root, 'cases', 'fifo');
    mkdirSync(dir, { recursive: true });
    execFileSync('mkfifo', [path.join(dir, 'model.onnx')]);
    const cardPath = path.join(dir, 'card.json');
    writeFileSync(cardPath, JSON.stringify({ ...card, file: 'model.onnx' }));
    await expectRefused(cardPath, 'MODEL_FILE_INVALID', /not a regular file/);
  });
});

describe('cards that try to reach outside their folder', () => {
  it.each([['../models/' + 'MODEL'], ['/etc/passwd'], ['sub/../../MODEL'], ['..'], ['.']])('refuses "file": %s', async (file) => {
    const cardPath = hostileCase(withCard((c) => ({ ...c, file: file.replace('MODEL', c.file) })));
    await expectRefused(cardPath, 'MODEL_CARD_INVALID', /"file" must name a file in the card's own folder/);
  });

  it.each([['../../../../outside/pwned'], ['1.0/../../x'], ['..'], ['1.0\\..\\..\\x'], ['']])('refuses "version": %s, and writes nothing outside the models folder', async (version) => {
    const before = snapshot(box.root, path.join(box.root, 'cases'));
    const cardPath = hostileCase(withCard((c) => ({ ...c, version })));
    await expectRefused(cardPath, 'MODEL_CARD_INVALID', /"version"/);
    const changed = snapshotDiff(before, snapshot(box.root, path.join(box.root, 'cases'))).filter((f) => !f.startsWith(path.join(box.dataDir, 'resight.sqlite')));
    expect(changed).toEqual([]);
    expect(existsSync(path.join(box.root, 'outside', 'pwned'))).toBe(false);
  });

  it.each([['../../outside'], ['ID/../x'], ['.hidden'], ['A-Upper']])('refuses "id": %s', async (id) => {
    await expectRefused(hostileCase(withCard((c) => ({ ...c, id }))), 'MODEL_CARD_INVALID', /"id"/);
  });
});

describe('cards with absurd contents', () => {
  it.each([
    ['a 0 px input', (c: Card) => ({ ...c, input: { ...c.input, height: 0 } }), /"input.height"/],
    ['a 100 000 px input', (c: Card) => ({ ...c, input: { ...c.input, width: 100_000 } }), /"input.width"/],
    ['a fractional size', (c: Card) => ({ ...c, input: { ...c.input, height: 224.5 } }), /"input.height"/],
    ['2 channels', (c: Card) => ({ ...c, input: { ...c.input, channels: 2 } }), /"input.channels"/],
    ['a zero std', (c: Card) => ({ ...c, input: { ...c.input, normalize: { ...c.input.normalize, std: [0] } } }), /"input.normalize.std"/],
    ['10 000 mean values', (c: Card) => ({ ...c, input: { ...c.input, normalize: { ...c.input.normalize, mean: new Array(10_000).fill(0) } } }), /"input.normalize.mean"/],
    ['no labels', (c: Card) => ({ ...c, labels: [] }), /"labels"/],
    ['duplicate label ids', (c: Card) => ({ ...c, labels: c.labels.map((l) => ({ ...l, id: 'same' })) }), /label ids must be unique/],
    ['a threshold above 1', (c: Card) => ({ ...c, labels: c.labels.map((l) => ({ ...l, threshold: 7 })) }), /threshold/],
    ['an unknown schema', (c: Card) => ({ ...c, schema: 'resight.model-card/99' }), /"schema"/],
    ['an array instead of an object', () => [], /the whole card/],
    ['null', () => null, /the whole card/],
  ])('refuses a card with %s', async (_what, edit, says) => {
    await expectRefused(hostileCase(withCard(edit as (c: Card) => unknown)), 'MODEL_CARD_INVALID', says);
  });

  it('refuses a card larger than 1 MB before parsing it', async () => {
    const padded = JSON.stringify({ ...card, notes: 'x'.repeat(MAX_CARD_BYTES) });
    await expectRefused(hostileCase(null, 'link', padded), 'MODEL_CARD_INVALID', /larger than 1 MB/);
  });

  it('refuses text that is not JSON or not UTF-8', async () => {
    await expectRefused(hostileCase(null, 'link', '{"schema": '), 'MODEL_CARD_INVALID', /could not be read as JSON/);
    const cardPath = hostileCase(null, 'link', '');
    writeFileSync(cardPath, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    await expectRefused(cardPath, 'MODEL_CARD_INVALID', /could not be read as JSON/);
  });

  it('refuses a card with deeply nested extra fields, and leaves no half-imported folder', async () => {
    // Well under 1 MB, parsed by JSON.parse, but JSON.stringify on import would overflow the stack.
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const text = JSON.stringify({ ...card, version: `${card.version}-deep` }).replace(/}$/, `, "extra": ${deep}}`);
    await expectRefused(hostileCase(null, 'link', text), 'MODEL_CARD_INVALID', /nested more than \d+ levels/);
    expect(existsSync(path.join(box.dataDir, 'models', `${card.id}-${card.version}-deep`))).toBe(false);
  });

  it('refuses /dev/zero and a FIFO as a card, at once', async () => {
    await expectRefused('/dev/zero', 'MODEL_CARD_INVALID', /not a regular file/);
    const fifo = path.join(box.root, 'cases', 'card-fifo.json');
    mkdirSync(path.dirname(fifo), { recursive: true });
    execFileSync('mkfifo', [fifo]);
    await expectRefused(fifo, 'MODEL_CARD_INVALID', /not a regular file/);
  });
});
