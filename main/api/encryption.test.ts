// Runs in tests. Database encryption through the real backend, as the desktop app (a keychain) and
// browser mode (none) reach it: turned on from settings, kept across a restart, used by exports,
// and refused with a reason where there is no keychain.
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forkSpawner } from '../inference/host/fork';
import type { SecretBox } from '../pacs/credentials';
import { looksEncrypted } from '../store/encryption';
import { hostEntry, modelsDir, samplesDir } from '../testing/fixtures';
import { fakeKeychain } from '../testing/keychain';
import { createBackend, DATABASE_FILE } from './backend';
import { dispatch } from './dispatch';

const ctx = { frontDoor: 'electron' as const, reader: 'it-admin' };

function backendAt(dataDir: string, secrets: SecretBox | undefined) {
  return createBackend({ dataDir, modelsDir, samplesDir, frontDoor: secrets ? 'electron' : 'browser', hostSpawner: forkSpawner(hostEntry), log: () => {}, ...(secrets ? { secrets } : {}) });
}

describe('database encryption through the backend', () => {
  it('turns on from settings, survives a restart, serves exports, and keeps browser mode out', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'resight-enc-api-'));
    const dbFile = path.join(dataDir, DATABASE_FILE);
    const keychain = fakeKeychain();
    let b = await backendAt(dataDir, keychain);
    await b.handlers['readers.create']({ name: 'Dr Quimby', role: 'clinician' }, ctx);
    expect(await b.handlers['database.encryption']({}, ctx)).toEqual({ encrypted: false, unavailableReason: null });
    expect(await b.handlers['database.setEncryption']({ enabled: true }, ctx)).toEqual({ encrypted: true, unavailableReason: null });
    expect(looksEncrypted(dbFile)).toBe(true);
    // An export opens its own connection: it needs the key, and gets it.
    const out = path.join(dataDir, 'export.zip');
    const exported = await dispatch(b.handlers, 'export.run', { format: 'bundle', identified: false, allowBurnedIn: false, outPath: out }, ctx);
    expect(exported).toMatchObject({ ok: false, error: { code: 'NOTHING_TO_EXPORT' } });
    await b.close();

    b = await backendAt(dataDir, keychain);
    expect(await b.handlers['database.encryption']({}, ctx)).toEqual({ encrypted: true, unavailableReason: null });
    expect((await b.handlers['readers.list']({}, ctx)).readers.map((r) => r.name)).toContain('Dr Quimby');
    await b.close();

    // Browser mode has no keychain: it refuses to start on the encrypted database, and touches nothing.
    await expect(backendAt(dataDir, undefined)).rejects.toMatchObject({ code: 'DATABASE_ENCRYPTED' });
    expect(looksEncrypted(dbFile)).toBe(true);
    expect(existsSync(out)).toBe(false);

    b = await backendAt(dataDir, keychain);
    expect(await b.handlers['database.setEncryption']({ enabled: false }, ctx)).toEqual({ encrypted: false, unavailableReason: null });
    await b.close();
    b = await backendAt(dataDir, undefined);
    const state = await b.handlers['database.encryption']({}, { ...ctx, frontDoor: 'browser' });
    expect(state).toEqual({ encrypted: false, unavailableReason: expect.stringContaining('desktop app') });
    const refused = await dispatch(b.handlers, 'database.setEncryption', { enabled: true }, { ...ctx, frontDoor: 'browser' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'ENCRYPTION_UNAVAILABLE' } });
    expect(looksEncrypted(dbFile)).toBe(false);
    await b.close();
  });
});
