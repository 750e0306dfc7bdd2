// Runs in the Electron main process. PACS credentials are sealed with safeStorage (Keychain on
// macOS, DPAPI on Windows, the Secret Service or KWallet on Linux). On Linux without a keyring
// Electron falls back to a fixed, publicly known key ("basic_text"): that is no protection, so it
// counts as unavailable and credentials are refused rather than stored.
import { safeStorage } from 'electron';
import type { SecretBox } from '../pacs/credentials';

export function keychainSecrets(platform: NodeJS.Platform = process.platform): SecretBox {
  return {
    isEncryptionAvailable: () => safeStorage.isEncryptionAvailable() && !(platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text'),
    encryptString: (plainText) => safeStorage.encryptString(plainText),
    decryptString: (encrypted) => safeStorage.decryptString(encrypted),
  };
}
