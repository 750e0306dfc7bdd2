// Runs in tests. The review calls through dispatch, as every front door runs them: writes are
// attributed to the reader chosen in the switcher (not the front door's OS user), the contract
// refuses malformed input before a handler runs, and the store's refusals come back as codes.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImageInfo } from '../../preload/api';
import { ImageCache } from '../imaging/load';
import type { ModelRegistry } from '../inference/registry';
import { auditCount } from '../store/audit';
import { openDatabase } from '../store/database';
import { Store } from '../store/repositories';
import { ReviewStore } from '../store/reviews';
import { agreementHandlers } from './agreement';
import { annotationHandlers } from './annotations';
import { dispatch, type Handlers } from './dispatch';
import { feedbackHandlers } from './feedback';
import { attributeToCurrentReader, readersHandlers } from './readers';
import { worklistHandlers } from './worklist';

const IMAGE = 'a'.repeat(64);
const info: ImageInfo = { imageId: IMAGE, format: 'png', fileName: 'a.png', width: 64, height: 32, frames: 1, samplesPerPixel: 1, bitsStored: 8, pixelDataType: 'uint8', photometric: 'MONOCHROME2', rescaleSlope: 1, rescaleIntercept: 0, windows: [{ center: 128, width: 256 }] };
/** Stands in for the model registry: an active model with two labels. */
const registry = { active: async () => ({ card: { labels: [{ id: 'opacity' }, { id: 'nodule' }] } }) } as unknown as ModelRegistry;
const ctx = { frontDoor: 'browser' as const, reader: 'os-user' };

async function setup() {
  const store = new Store(await openDatabase(path.join(mkdtempSync(path.join(os.tmpdir(), 'resight-review-api-')), 'db.sqlite')));
  store.recordImage(info, '/nowhere/a.png', 'os-user');
  const reviews = new ReviewStore(store);
  const deps = { samplesDir: '/nowhere', cache: new ImageCache(), store, reviews, registry, activeModel: () => null };
  const handlers = attributeToCurrentReader(
    { ...feedbackHandlers(store), ...readersHandlers(reviews), ...annotationHandlers(deps), ...worklistHandlers(deps), ...agreementHandlers(reviews) } as Handlers,
    reviews,
  );
  const call = (method: string, input: unknown) => dispatch(handlers, method, input, ctx);
  return { store, call };
}

describe('review calls', () => {
  it('attribute every write to the current reader once one is chosen', async () => {
    const { call } = await setup();
    expect(await call('review.save', { imageId: IMAGE, labels: [{ labelId: 'opacity', present: true }] })).toMatchObject({ ok: true, value: { reader: 'os-user' } });
    const created = await call('readers.create', { name: 'Dr Adams', role: 'clinician' });
    expect(created).toMatchObject({ ok: true, value: { name: 'Dr Adams' } });
    const readerId = (created as { value: { readerId: number } }).value.readerId;
    expect(await call('readers.setCurrent', { readerId })).toMatchObject({ ok: true, value: { current: { name: 'Dr Adams' } } });
    expect(await call('review.save', { imageId: IMAGE, labels: [{ labelId: 'nodule', present: true }], sign: true })).toMatchObject({ ok: true, value: { reader: 'Dr Adams', version: 1, signed: true } });
    expect(await call('feedback.save', { imageId: IMAGE, verdict: 'agree' })).toMatchObject({ ok: true, value: { reader: 'Dr Adams' } });
    expect(await call('review.all', { imageId: IMAGE })).toMatchObject({ ok: true, value: [{ reader: 'Dr Adams' }, { reader: 'os-user' }] });
    expect(await call('worklist.list', {})).toMatchObject({ ok: true, value: { progress: { done: 1, total: 1 }, cases: [{ status: 'read', signed: true }] } });
  });

  it('refuse bad input with a code and write nothing', async () => {
    const { store, call } = await setup();
    const before = auditCount(store.db);
    const refusals: Array<[string, unknown, string]> = [
      ['readers.create', { name: 'x'.repeat(65), role: 'clinician' }, 'INVALID_ARGUMENT'],
      ['readers.create', { name: 'X', role: 'root' }, 'INVALID_ARGUMENT'],
      ['readers.setCurrent', { readerId: 42 }, 'READER_NOT_FOUND'],
      ['readers.setAdjudicator', { readerId: -1 }, 'INVALID_ARGUMENT'],
      ['review.save', { imageId: IMAGE, note: 'x'.repeat(20_001) }, 'INVALID_ARGUMENT'],
      ['review.save', { imageId: IMAGE, labels: [{ labelId: 'fracture', present: true }] }, 'UNKNOWN_LABEL'],
      ['review.save', { imageId: IMAGE, regions: [{ kind: 'box', labelId: 'opacity', x0: 0, y0: 0, x1: 65, y1: 10 }] }, 'REGION_OUTSIDE_IMAGE'],
      ['review.save', { imageId: IMAGE, regions: [{ kind: 'box', labelId: 'opacity', x0: '0', y0: 0, x1: 5, y1: 10 }] }, 'INVALID_ARGUMENT'],
      ['review.save', { imageId: IMAGE, confidence: 0 }, 'INVALID_ARGUMENT'],
      ['review.save', { imageId: 'b'.repeat(64) }, 'IMAGE_NOT_OPEN'],
      ['worklist.list', { status: 'done' }, 'INVALID_ARGUMENT'],
      ['worklist.setFlag', { imageId: 'b'.repeat(64), flagged: true }, 'IMAGE_NOT_OPEN'],
      ['worklist.open', { imageId: IMAGE, extra: 1 }, 'INVALID_ARGUMENT'],
      ['adjudication.decide', { imageId: IMAGE, labelId: 'opacity', present: true }, 'NOT_ADJUDICATOR'],
      ['agreement.summary', { x: 1 }, 'INVALID_ARGUMENT'],
    ];
    for (const [method, input, code] of refusals) {
      const r = await call(method, input);
      expect(r, `${method} ${JSON.stringify(input).slice(0, 80)}`).toMatchObject({ ok: false, error: { code } });
      expect((r as { error: { message: string } }).error.message.length).toBeGreaterThan(10);
    }
    expect(auditCount(store.db)).toBe(before);
  });
});
