// Runs in Vitest (Node), 'electron' replaced by fake-electron.ts. The window's web preferences, and the
// page and session policy: no new windows, no navigation away, no webviews, no permissions, CSP.
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron'));

import type { Session, WebContents } from 'electron';
import { BrowserWindow, FakeSession, FakeWebContents, fakeEvent, resetElectronFakes, shell } from './fake-electron';
import { APP_ENTRY_URL } from './origin';
import { createMainWindow } from './window';
import { BLOCKED_REMOTE_URLS, hardenSession, hardenWebContents, secureWebPreferences, withAppCsp } from './web-security';

const asContents = (c: FakeWebContents) => c as unknown as WebContents;
const asSession = (s: FakeSession) => s as unknown as Session;

beforeEach(() => resetElectronFakes());

describe('secureWebPreferences', () => {
  it('isolates the page from Node and from insecure content', () => {
    expect(secureWebPreferences('/app/dist/electron/preload.cjs', false)).toEqual({
      preload: '/app/dist/electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      disableBlinkFeatures: 'Auxclick',
      spellcheck: false,
      devTools: false,
    });
  });

  it('is what the app window is created with, titled Resight and pointed at the app origin', () => {
    const log = vi.fn();
    createMainWindow({ preloadPath: '/p/preload.cjs', devTools: true, log });
    const [window] = BrowserWindow.instances;
    expect(window?.options.webPreferences).toEqual(secureWebPreferences('/p/preload.cjs', true));
    expect(window?.options.title).toBe('Resight');
    expect(window?.loadURL).toHaveBeenCalledWith(APP_ENTRY_URL);
  });

  it('keeps the window title from following the page title', () => {
    createMainWindow({ preloadPath: '/p/preload.cjs', devTools: false, log: vi.fn() });
    const event = fakeEvent({});
    BrowserWindow.instances[0]?.emit('page-title-updated', event, 'Jane Doe — chest.dcm');
    expect(event.defaultPrevented).toBe(true);
  });
});

describe('hardenWebContents', () => {
  const setup = () => {
    const contents = new FakeWebContents();
    const log = vi.fn();
    hardenWebContents(asContents(contents), log);
    return { contents, log };
  };

  it('denies every new window, even for an allowlisted URL (which opens in the system browser instead)', () => {
    const { contents } = setup();
    expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(shell.openExternal).not.toHaveBeenCalled();
    expect(contents.windowOpenHandler?.({ url: 'https://github.com/' })).toEqual({ action: 'deny' });
    expect(shell.openExternal).toHaveBeenCalledWith('https://github.com/');
  });

  it('prevents navigation away from resight://app and allows navigation within it', () => {
    const { contents } = setup();
    const away = fakeEvent({ url: 'https://evil.example/' });
    contents.emit('will-navigate', away, away.url);
    expect(away.defaultPrevented).toBe(true);

    const fileUrl = fakeEvent({ url: 'file:///etc/passwd' });
    contents.emit('will-navigate', fileUrl, fileUrl.url);
    expect(fileUrl.defaultPrevented).toBe(true);

    const lookalike = fakeEvent({ url: 'resight://app.evil.example/index.html' });
    contents.emit('will-navigate', lookalike, lookalike.url);
    expect(lookalike.defaultPrevented).toBe(true);

    const inside = fakeEvent({ url: 'resight://app/index.html' });
    contents.emit('will-navigate', inside, inside.url);
    expect(inside.defaultPrevented).toBe(false);
    expect(shell.openExternal).not.toHaveBeenCalled();
  });

  it('sends a navigation to an allowlisted page to the system browser instead', () => {
    const { contents } = setup();
    const docs = fakeEvent({ url: 'https://github.com/' });
    contents.emit('will-navigate', docs, docs.url);
    expect(docs.defaultPrevented).toBe(true);
    expect(shell.openExternal).toHaveBeenCalledWith('https://github.com/');
  });

  it('prevents redirects outside the app origin', () => {
    const { contents } = setup();
    const away = fakeEvent({ url: 'http://127.0.0.1:9/steal' });
    contents.emit('will-redirect', away, away.url);
    expect(away.defaultPrevented).toBe(true);
    const inside = fakeEvent({ url: 'resight://app/assets/index.js' });
    contents.emit('will-redirect', inside, inside.url);
    expect(inside.defaultPrevented).toBe(false);
  });

  it('refuses to attach webviews', () => {
    const { contents } = setup();
    const event = fakeEvent({});
    contents.emit('will-attach-webview', event, {}, {});
    expect(event.defaultPrevented).toBe(true);
  });

  it('logs refusals without the path or query of the URL', () => {
    const { contents, log } = setup();
    const away = fakeEvent({ url: 'https://evil.example/report?patient=Jane%20Doe' });
    contents.emit('will-navigate', away, away.url);
    const logged = log.mock.calls.map((c) => String(c[0])).join('\n');
    expect(logged).toContain('https://evil.example');
    expect(logged).not.toContain('Jane');
    expect(logged).not.toContain('report');
  });
});

describe('hardenSession', () => {
  const setup = () => {
    const ses = new FakeSession();
    hardenSession(asSession(ses), vi.fn());
    return ses;
  };

  it('answers every permission request with a refusal', () => {
    const ses = setup();
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) {
      const callback = vi.fn();
      ses.permissionRequestHandler?.({}, permission, callback, {});
      expect(callback).toHaveBeenCalledExactlyOnceWith(false);
    }
  });

  it('answers every permission check with a refusal', () => {
    const ses = setup();
    for (const permission of ['media', 'hid', 'serial', 'usb', 'clipboard-read']) {
      expect(ses.permissionCheckHandler?.({}, permission, 'resight://app', {})).toBe(false);
    }
  });

  it("replaces any response's CSP with the app's, whatever the header's case", () => {
    const ses = setup();
    const callback = vi.fn();
    ses.headersReceived?.(
      { url: 'resight://app/index.html', responseHeaders: { 'content-security-policy': ["script-src 'unsafe-eval' *"], 'Content-Type': ['text/html'] } },
      callback,
    );
    const { responseHeaders } = callback.mock.calls[0]?.[0] as { responseHeaders: Record<string, string[]> };
    const csp = Object.entries(responseHeaders).filter(([name]) => name.toLowerCase() === 'content-security-policy');
    expect(csp).toHaveLength(1);
    expect(csp[0]?.[1]?.[0]).toContain("script-src 'self'");
    expect(csp[0]?.[1]?.[0]).not.toContain('unsafe-eval');
    expect(responseHeaders['Content-Type']).toEqual(['text/html']);
  });

  it('adds the CSP to responses that had no headers', () => {
    expect(withAppCsp(undefined)['Content-Security-Policy']?.[0]).toContain("default-src 'self'");
  });

  it('cancels network requests from pages', () => {
    const ses = setup();
    expect(ses.beforeRequest?.filter.urls).toEqual(BLOCKED_REMOTE_URLS);
    const callback = vi.fn();
    ses.beforeRequest?.listener({ url: 'https://tracker.example/pixel.gif' }, callback);
    expect(callback).toHaveBeenCalledWith({ cancel: true });
  });
});
