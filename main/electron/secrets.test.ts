// Runs in Vitest with 'electron' mocked. Credentials are sealed only by a real keychain: Linux's
// basic_text fallback (a hard-coded key) counts as none, and sealing then refuses.
import { beforeEach, describe, expect, it, vi } from 'vitest';
vi.mock('electron', () => import('./fake-electron'));
import { safeStorage } from 'electron';
import { openCredentials, sealCredentials } from '../pacs/credentials';
import { resetElectronFakes } from './fake-electron';
import { keychainSecrets } from './secrets';

const fake = safeStorage as unknown as { available: boolean; backend: string };

describe('keychain secrets', () => {
  beforeEach(() => resetElectronFakes());

  it('seals and opens credentials through safeStorage, never as plain text', () => {
    const box = keychainSecrets('linux');
    const sealed = sealCredentials(box, { kind: 'basic', user: 'reader', password: 'hunter2' });
    expect(sealed).not.toContain('hunter2');
    expect(openCredentials(box, sealed)).toEqual({ kind: 'basic', user: 'reader', password: 'hunter2' });
  });

  it("refuses Linux's basic_text fallback and a missing keychain", () => {
    fake.backend = 'basic_text';
    expect(() => sealCredentials(keychainSecrets('linux'), { kind: 'bearer', token: 'abc' })).toThrow(expect.objectContaining({ code: 'CREDENTIALS_UNAVAILABLE' }));
    expect(keychainSecrets('darwin').isEncryptionAvailable()).toBe(true);
    fake.available = false;
    expect(() => sealCredentials(keychainSecrets('darwin'), { kind: 'bearer', token: 'abc' })).toThrow(expect.objectContaining({ code: 'CREDENTIALS_UNAVAILABLE' }));
  });
});
