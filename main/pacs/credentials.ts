// Runs in main, the CLI and tests. PACS credentials: what the client sends, where it gets them, and
// how the app keeps them at rest. Encryption is an injected `SecretBox` whose shape is Electron's
// safeStorage, so main/electron passes `safeStorage` itself and nothing here imports 'electron';
// the CLI builds credentials from its flags and environment instead.
import { z } from 'zod';
import { ResightError } from '../../preload/api';

export const PacsCredentials = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('basic'), user: z.string().min(1).max(256).refine((u) => !u.includes(':'), 'a user name cannot contain ":"'), password: z.string().max(4096) }),
  z.object({ kind: z.literal('bearer'), token: z.string().min(1).max(16384).regex(/^[\x21-\x7e]+$/, 'a token is printable ASCII without spaces') }),
]);
export type PacsCredentials = z.infer<typeof PacsCredentials>;

/**
 * Credentials given directly, or looked up per request (so a vault that is locked later, or a token
 * that is renewed, takes effect without rebuilding the client). May throw CREDENTIALS_UNAVAILABLE.
 */
export type AuthSource = PacsCredentials | (() => Promise<PacsCredentials | undefined>);

export async function authorization(source: AuthSource | undefined): Promise<string | undefined> {
  const auth = typeof source === 'function' ? await source() : source;
  if (!auth) return undefined;
  if (auth.kind === 'basic') return `Basic ${Buffer.from(`${auth.user}:${auth.password}`, 'utf8').toString('base64')}`;
  return `Bearer ${auth.token}`;
}

/**
 * The part of Electron's safeStorage this needs. On Linux without a keyring, safeStorage reports
 * encryption available but uses a fixed key (backend 'basic_text'); main/electron should report
 * that case as unavailable.
 */
export interface SecretBox {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

const unavailable = (): ResightError =>
  new ResightError(
    'CREDENTIALS_UNAVAILABLE',
    "This computer offers no secure storage for passwords (the system keychain or keyring is not available), so Resight will not keep PACS credentials. Unlock or set up the keyring, or use a server that needs no credentials.",
  );

/** Encrypts credentials for settings; refuses rather than ever storing them in plain text. */
export function sealCredentials(box: SecretBox, auth: PacsCredentials): string {
  if (!box.isEncryptionAvailable()) throw unavailable();
  const r = PacsCredentials.safeParse(auth);
  if (!r.success) throw new ResightError('INVALID_ARGUMENT', 'The PACS user name or token is not valid: a user name has 1 to 256 characters without ":", a token has no spaces.');
  return box.encryptString(JSON.stringify(r.data)).toString('base64');
}

/** Decrypts what sealCredentials produced. */
export function openCredentials(box: SecretBox, sealed: string): PacsCredentials {
  if (!box.isEncryptionAvailable()) throw unavailable();
  let parsed: unknown;
  try {
    parsed = JSON.parse(box.decryptString(Buffer.from(sealed, 'base64')));
  } catch {
    throw new ResightError('CREDENTIALS_UNAVAILABLE', 'The saved PACS credentials could not be decrypted (the keyring may have changed). Enter them again in settings.');
  }
  const r = PacsCredentials.safeParse(parsed);
  if (!r.success) throw new ResightError('CREDENTIALS_UNAVAILABLE', 'The saved PACS credentials are damaged. Enter them again in settings.');
  return r.data;
}

/** The source a client uses for a server whose credentials are kept sealed in settings. */
export function sealedSource(box: SecretBox, load: () => Promise<string | undefined>): AuthSource {
  return async () => {
    const sealed = await load();
    return sealed === undefined ? undefined : openCredentials(box, sealed);
  };
}

/**
 * The CLI's credentials: `--user` with the password from RESIGHT_PACS_PASSWORD, or a token from
 * `--token` / RESIGHT_PACS_TOKEN. Passwords never come from flags, which other users can see in `ps`.
 */
export function credentialsFromCli(flags: { user?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): PacsCredentials | undefined {
  const token = flags.token ?? (env.RESIGHT_PACS_TOKEN || undefined);
  const user = flags.user ?? (env.RESIGHT_PACS_USER || undefined);
  if (user && token) throw new ResightError('INVALID_ARGUMENT', 'Give either a user name (basic authentication) or a token, not both.');
  if (token) {
    const r = PacsCredentials.safeParse({ kind: 'bearer', token });
    if (!r.success) throw new ResightError('INVALID_ARGUMENT', 'The token is not valid: it must be printable characters without spaces.');
    return r.data;
  }
  if (!user) return undefined;
  const password = env.RESIGHT_PACS_PASSWORD;
  if (password === undefined) throw new ResightError('CREDENTIALS_UNAVAILABLE', `A user name was given but no password: set the environment variable RESIGHT_PACS_PASSWORD.`);
  const r = PacsCredentials.safeParse({ kind: 'basic', user, password });
  if (!r.success) throw new ResightError('INVALID_ARGUMENT', 'The user name is not valid: it must be 1 to 256 characters without ":".');
  return r.data;
}
