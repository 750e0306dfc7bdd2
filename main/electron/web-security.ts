// Runs in the Electron main process. The security policy for every page and session: locked-down
// web preferences, no new windows, no navigation away from the app, no permissions, CSP on all responses.
import type { Session, WebContents, WebPreferences } from 'electron';
import type { Logger } from '../api/dispatch';
import { isAllowedExternalUrl, openExternalIfAllowed } from './external-links';
import { CONTENT_SECURITY_POLICY, describeUrlForLog, isAppUrl } from './origin';

export function secureWebPreferences(preloadPath: string, devTools: boolean): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    // A file dropped on the window must not replace the app with file://.
    navigateOnDragDrop: false,
    // Middle-click on a link fires auxclick, a second path to opening windows; off, like new windows.
    disableBlinkFeatures: 'Auxclick',
    // Spell-check dictionaries are downloaded from a Google CDN; nothing leaves the workstation.
    spellcheck: false,
    devTools,
  };
}

/** Applied to every WebContents the app creates (wired to app 'web-contents-created'). */
export function hardenWebContents(contents: WebContents, log: Logger): void {
  contents.setWindowOpenHandler(({ url }) => {
    openExternalIfAllowed(url, log);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url)) return;
    event.preventDefault();
    // A plain link to an allowlisted page opens in the system browser; anything else goes nowhere.
    if (isAllowedExternalUrl(event.url)) openExternalIfAllowed(event.url, log);
    else log(`blocked navigation to ${describeUrlForLog(event.url)}`);
  });
  contents.on('will-redirect', (event) => {
    if (isAppUrl(event.url)) return;
    event.preventDefault();
    log(`blocked a redirect to ${describeUrlForLog(event.url)}`);
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log('blocked a webview');
  });
}

/** Replaces any Content-Security-Policy header (whatever its case) with the app's. */
export function withAppCsp(headers: Record<string, string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value;
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  return out;
}

/** Resight talks to no server from its pages; these requests are cancelled before they leave. */
export const BLOCKED_REMOTE_URLS = ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*'];

export function hardenSession(ses: Session, log: Logger): void {
  ses.setPermissionRequestHandler((_contents, permission, callback) => {
    log(`denied a permission request: ${permission}`);
    callback(false);
  });
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withAppCsp(details.responseHeaders) });
  });
  ses.webRequest.onBeforeRequest({ urls: BLOCKED_REMOTE_URLS }, (details, callback) => {
    log(`blocked a network request to ${describeUrlForLog(details.url)}`);
    callback({ cancel: true });
  });
}
