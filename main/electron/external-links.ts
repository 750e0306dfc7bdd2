// Runs in the Electron main process. The only URLs Resight will hand to the system browser.
import { shell } from 'electron';
import type { Logger } from '../api/dispatch';
import { describeUrlForLog } from './origin';

/** Exact URLs (after URL normalisation). Nothing derived from a page is ever opened. */
export const EXTERNAL_URL_ALLOWLIST: readonly string[] = [
  'https://github.com/',
  'https://onnxruntime.ai/docs/execution-providers/',
];

export function isAllowedExternalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' && EXTERNAL_URL_ALLOWLIST.includes(parsed.href);
}

/** Opens an allowlisted URL in the system browser; refuses and logs (without path or query) anything else. */
export function openExternalIfAllowed(url: string, log: Logger): boolean {
  if (!isAllowedExternalUrl(url)) {
    log(`refused to open an external link to ${describeUrlForLog(url)}`);
    return false;
  }
  shell.openExternal(url).catch((err: unknown) => {
    log(`could not open an external link: ${err instanceof Error ? err.message : String(err)}`);
  });
  return true;
}
