// Runs in Vitest (Node), 'electron' replaced by fake-electron.ts. Only allowlisted URLs reach the system browser.
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron'));

import { EXTERNAL_URL_ALLOWLIST, isAllowedExternalUrl, openExternalIfAllowed } from './external-links';
import { resetElectronFakes, shell } from './fake-electron';

beforeEach(() => resetElectronFakes());

describe('external link allowlist', () => {
  it.each([...EXTERNAL_URL_ALLOWLIST])('opens the listed %s in the system browser', (url) => {
    expect(isAllowedExternalUrl(url)).toBe(true);
    expect(openExternalIfAllowed(url, vi.fn())).toBe(true);
    expect(shell.openExternal).toHaveBeenCalledWith(url);
  });

  it.each([
    'file:///etc/passwd',
    'http://github.com/',
    'https://github.com/evil/repo',
    'https://github.com/?next=https://evil.example',
    'https://github.com.evil.example/',
    'https://user:pass@github.com/',
    'https://evil.example/',
    'javascript:alert(1)',
    'resight://app/index.html',
    'smb://fileserver/share',
    'not a url',
  ])('refuses %s', (url) => {
    const log = vi.fn();
    expect(isAllowedExternalUrl(url)).toBe(false);
    expect(openExternalIfAllowed(url, log)).toBe(false);
    expect(shell.openExternal).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledOnce();
  });

  it("logs a refusal without the URL's path or query", () => {
    const log = vi.fn();
    openExternalIfAllowed('https://evil.example/upload?patient=Jane%20Doe&id=123', log);
    const line = String(log.mock.calls[0]?.[0]);
    expect(line).toContain('https://evil.example');
    expect(line).not.toMatch(/Jane|upload|123|\?/);
  });
});
