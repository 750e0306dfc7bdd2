// Runs in tests. Every call is validated against the contract before its handler runs, and
// failures come back as typed envelopes with no internals in them.
import { describe, expect, it } from 'vitest';
import { ResightError } from '../../preload/api';
import { dispatch, type Handlers } from './dispatch';

const ctx = { frontDoor: 'browser' as const, reader: 't' };
const calls: unknown[] = [];
const handlers = {
  'feedback.latest': async (input: unknown) => {
    calls.push(input);
    return null;
  },
  'studies.openFile': async () => {
    throw new Error('ENOENT: /home/patient/SMITH_JOHN/chest.dcm');
  },
  'studies.openSample': async () => {
    throw new ResightError('NOT_FOUND', 'There is no sample with that name.');
  },
} as unknown as Handlers;

describe('dispatch', () => {
  it('refuses wrong types, extra keys and prototype tricks before the handler runs', async () => {
    for (const input of [{ imageId: 5 }, { imageId: 'a'.repeat(64), extra: 1 }, JSON.parse('{"__proto__": {"admin": true}}'), 'x', [1]]) {
      const r = await dispatch(handlers, 'feedback.latest', input, ctx);
      expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(calls).toEqual([]);
    const ok = await dispatch(handlers, 'feedback.latest', { imageId: 'a'.repeat(64) }, ctx);
    expect(ok).toEqual({ ok: true, value: null });
    expect(calls).toHaveLength(1);
  });

  it('refuses unknown methods, including inherited property names', async () => {
    for (const m of ['nope', '__proto__', 'constructor', 'toString', 42]) {
      expect(await dispatch(handlers, m, {}, ctx)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    }
  });

  it('passes typed errors through and hides the details of unexpected ones', async () => {
    expect(await dispatch(handlers, 'studies.openSample', { name: 'x' }, ctx)).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'There is no sample with that name.' },
    });
    const logged: string[] = [];
    const r = await dispatch(handlers, 'studies.openFile', { path: '/x.dcm' }, ctx, (l) => logged.push(l));
    expect(r).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(r)).not.toContain('SMITH');
    expect(logged).toHaveLength(1);
    expect(logged.join('')).not.toContain('SMITH');
  });
});
