// Runs in the Electron main process. The one app window, created with the secure preferences and
// pointed at the app origin.
import { BrowserWindow } from 'electron';
import type { Logger } from '../api/dispatch';
import { APP_ENTRY_URL } from './origin';
import { secureWebPreferences } from './web-security';

export interface WindowOptions {
  preloadPath: string;
  devTools: boolean;
  log: Logger;
}

export function createMainWindow({ preloadPath, devTools, log }: WindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    title: 'Resight',
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    backgroundColor: '#101214',
    show: false,
    webPreferences: secureWebPreferences(preloadPath, devTools),
  });
  // The title stays "Resight": a page title could carry a file or patient name into the task bar.
  window.on('page-title-updated', (event) => event.preventDefault());
  window.once('ready-to-show', () => window.show());
  window.loadURL(APP_ENTRY_URL).catch((err: unknown) => {
    log(`the app page did not load: ${err instanceof Error ? err.message : String(err)}`);
  });
  return window;
}
