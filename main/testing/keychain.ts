// Runs in tests. A stand-in for Electron's safeStorage (which needs the Electron runtime): AES-GCM
// under a secret of its own, so what one keychain seals only the same keychain opens, as with a
// real keychain of another account or computer. `available: false` is Linux's basic_text backend.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretBox } from '../pacs/credentials';

export function fakeKeychain(available = true): SecretBox {
  const secret = randomBytes(32);
  return {
    isEncryptionAvailable: () => available,
    encryptString: (plain) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', secret, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptString: (sealed) => {
      const d = createDecipheriv('aes-256-gcm', secret, sealed.subarray(0, 12));
      d.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString('utf8');
    },
  };
}
