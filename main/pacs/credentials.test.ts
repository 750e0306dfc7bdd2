// Runs in tests. Credentials kept sealed through a safeStorage-shaped box (refused where it offers no
// encryption), the Authorization header they make, and the CLI's flags and environment.
import { describe, expect, it } from 'vitest';
import { authorization, credentialsFromCli, openCredentials, sealCredentials, sealedSource, type SecretBox } from './credentials';

/** Stands in for Electron's safeStorage: a reversible transform, plus the availability switch. */
function box(available = true): SecretBox {
  return {
    isEncryptionAvailable: () => available,
    encryptString: (s) => Buffer.from(Buffer.from(s, 'utf8').map((b) => b ^ 0x5a)),
    decryptString: (b) => Buffer.from(b.map((x) => x ^ 0x5a)).toString('utf8'),
  };
}

describe('sealed credentials', () => {
  it('round-trip through the box and never appear in plain text in what is stored', () => {
    const b = box();
    const sealed = sealCredentials(b, { kind: 'basic', user: 'radiology', password: 'pa:ss wörd' });
    expect(sealed).not.toContain('pa:ss');
    expect(Buffer.from(sealed, 'base64').toString('utf8')).not.toContain('radiology');
    expect(openCredentials(b, sealed)).toEqual({ kind: 'basic', user: 'radiology', password: 'pa:ss wörd' });
  });

  it('are refused where the system offers no encryption', () => {
    const sealed = sealCredentials(box(), { kind: 'bearer', token: 'abc' });
    expect(() => sealCredentials(box(false), { kind: 'bearer', token: 'abc' })).toThrow(expect.objectContaining({ code: 'CREDENTIALS_UNAVAILABLE' }));
    expect(() => openCredentials(box(false), sealed)).toThrow(expect.objectContaining({ code: 'CREDENTIALS_UNAVAILABLE' }));
  });

  it('that no longer decrypt or parse say so without echoing them', () => {
    const b = box();
    expect(() => openCredentials(b, Buffer.from('garbage').toString('base64'))).toThrow(expect.objectContaining({ code: 'CREDENTIALS_UNAVAILABLE' }));
    const wrongShape = b.encryptString(JSON.stringify({ kind: 'basic', user: 'a:b', password: 'secret-x' })).toString('base64');
    const err = (() => {
      try {
        openCredentials(b, wrongShape);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toMatchObject({ code: 'CREDENTIALS_UNAVAILABLE' });
    expect(err!.message).not.toContain('secret-x');
  });

  it('feed the Authorization header through a source read at each request', async () => {
    const b = box();
    let stored: string | undefined = sealCredentials(b, { kind: 'basic', user: 'u', password: 'p' });
    const source = sealedSource(b, async () => stored);
    expect(await authorization(source)).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    stored = sealCredentials(b, { kind: 'bearer', token: 't0k' });
    expect(await authorization(source)).toBe('Bearer t0k');
    stored = undefined;
    expect(await authorization(source)).toBeUndefined();
  });
});

describe('credentialsFromCli', () => {
  it('takes the password from RESIGHT_PACS_PASSWORD and the token from --token or RESIGHT_PACS_TOKEN', () => {
    expect(credentialsFromCli({ user: 'u' }, { RESIGHT_PACS_PASSWORD: 'p' })).toEqual({ kind: 'basic', user: 'u', password: 'p' });
    expect(credentialsFromCli({ token: 'flag' }, { RESIGHT_PACS_TOKEN: 'env' })).toEqual({ kind: 'bearer', token: 'flag' });
    expect(credentialsFromCli({}, { RESIGHT_PACS_TOKEN: 'env' })).toEqual({ kind: 'bearer', token: 'env' });
    expect(credentialsFromCli({}, {})).toBeUndefined();
  });

  it('refuses a user without a password, both kinds at once, and malformed values', () => {
    expect(() => credentialsFromCli({ user: 'u' }, {})).toThrow(expect.objectContaining({ code: 'CREDENTIALS_UNAVAILABLE' }));
    expect(() => credentialsFromCli({ user: 'u', token: 't' }, { RESIGHT_PACS_PASSWORD: 'p' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => credentialsFromCli({ user: 'a:b' }, { RESIGHT_PACS_PASSWORD: 'p' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => credentialsFromCli({ token: 'has space' }, {})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
