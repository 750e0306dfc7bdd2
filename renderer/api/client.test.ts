import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { unwrap } from './client';

describe('unwrap', () => {
  it('returns a value that matches the contract', () => {
    expect(unwrap('feedback.latest', { ok: true, value: null })).toBeNull();
  });

  it('throws the error’s code and sentence', () => {
    const thrown = (() => {
      try {
        unwrap('app.info', { ok: false, error: { code: 'FORBIDDEN', message: 'Not allowed here.' } });
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).code).toBe('FORBIDDEN');
    expect((thrown as ApiError).message).toBe('Not allowed here.');
  });

  it('refuses a value that does not match the contract', () => {
    expect(() => unwrap('app.info', { ok: true, value: { name: 'Other' } })).toThrow(ApiError);
    expect(() => unwrap('app.info', 'nonsense')).toThrow(ApiError);
  });
});
