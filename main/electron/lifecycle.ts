// Runs in the Electron main process. App lifecycle: one instance, the security policy, the app
// protocol, the backend, IPC, menu and window, and an orderly backend shutdown before quitting.
import { app, BrowserWindow, dialog, ipcMain, Menu, session } from 'electron';
import path from 'node:path';
import { ResightError } from '../../preload/api';
import { createBackend, type Backend } from '../api/backend';
import type { Logger } from '../api/dispatch';
import { createUtilityHostSpawner } from './host-process';
import { forwardEvents, OPEN_DIALOG_OPTIONS, readerName, registerIpc } from './ipc';
import { createMainLogger } from './log';
import { keychainSecrets } from './secrets';
import { buildMenuTemplate, sendMenuCommand, showAbout } from './menu';
import { resolveAppPaths } from './paths';
import { registerAppScheme, serveRenderer } from './protocol';
import { createMainWindow } from './window';
import { hardenSession, hardenWebContents } from './web-security';

/** How long quitting waits for the backend (inference host, database) to close. */
export const BACKEND_CLOSE_TIMEOUT_MS = 5_000;

/** Lets the e2e suite give each launch its own data folder (and so its own single-instance lock). */
export const USER_DATA_ENV = 'RESIGHT_USER_DATA_DIR';
export const SQLITE_BINDING_ENV = 'RESIGHT_SQLITE_BINDING';

function startupMessage(err: unknown, logFile: string): string {
  if (err instanceof ResightError) return err.message;
  return `Resight hit an unexpected problem while starting. Nothing you saved was changed. The details are in ${logFile}.`;
}

async function closeWithin(backend: Backend, ms: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log(`the backend did not close within ${ms} ms; quitting anyway`);
      resolve();
    }, ms);
  });
  try {
    await Promise.race([backend.close(), timeout]);
  } catch (err) {
    log(`closing the backend failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

export function runResight(): void {
  const userDataOverride = process.env[USER_DATA_ENV];
  if (userDataOverride) app.setPath('userData', path.resolve(userDataOverride));
  const log = createMainLogger(app.getPath('logs'));

  // Both must happen before 'ready'.
  registerAppScheme();
  app.enableSandbox();

  // The lock is taken in the userData folder, so it comes after any override of that folder.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }

  const paths = resolveAppPaths({ distElectronDir: __dirname, isPackaged: app.isPackaged, resourcesPath: process.resourcesPath });
  let backend: Backend | null = null;
  let window: BrowserWindow | null = null;
  let teardown: Array<() => void> = [];
  let quitState: 'running' | 'closing' | 'closed' = 'running';

  const openWindow = (): void => {
    window = createMainWindow({ preloadPath: paths.preloadPath, devTools: !app.isPackaged, log });
    window.on('closed', () => {
      window = null;
    });
  };

  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, log));

  app.on('second-instance', () => {
    if (window === null) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (backend !== null && window === null) openWindow();
  });

  app.on('before-quit', (event) => {
    if (backend === null || quitState === 'closed') return;
    event.preventDefault();
    if (quitState === 'closing') return;
    quitState = 'closing';
    for (const undo of teardown) undo();
    teardown = [];
    void closeWithin(backend, BACKEND_CLOSE_TIMEOUT_MS, log).then(() => {
      quitState = 'closed';
      app.quit();
    });
  });

  const start = async (): Promise<void> => {
    hardenSession(session.defaultSession, log);
    serveRenderer(paths.rendererDir, log);
    backend = await createBackend({
      dataDir: app.getPath('userData'),
      modelsDir: paths.modelsDir,
      samplesDir: paths.samplesDir,
      frontDoor: 'electron',
      hostSpawner: createUtilityHostSpawner(paths.hostEntry, log),
      log,
      // Seals PACS credentials and wraps the database key; Linux's basic_text counts as unavailable.
      secrets: keychainSecrets(),
      // Set by `npm start`, which builds an Electron-ABI copy of the SQLite addon (scripts/start.mjs);
      // packaged apps get theirs rebuilt by electron-builder and leave it unset.
      ...(process.env[SQLITE_BINDING_ENV] ? { sqliteNativeBinding: process.env[SQLITE_BINDING_ENV] } : {}),
    });
    teardown.push(
      registerIpc({
        ipcMain,
        handlers: backend.handlers,
        reader: readerName(),
        log,
        showOpenDialog: (sender) => {
          const owner = BrowserWindow.fromWebContents(sender);
          return owner ? dialog.showOpenDialog(owner, OPEN_DIALOG_OPTIONS) : dialog.showOpenDialog(OPEN_DIALOG_OPTIONS);
        },
      }),
      forwardEvents(backend.events, () => window?.webContents ?? null),
    );
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        buildMenuTemplate(app.isPackaged, process.platform, {
          openFile: () => sendMenuCommand(window, 'open-file'),
          about: () => showAbout(app.getVersion(), window),
        }),
      ),
    );
    openWindow();
  };

  app
    .whenReady()
    .then(start)
    .catch((err: unknown) => {
      log(`startup failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      dialog.showErrorBox('Resight could not start', startupMessage(err, path.join(app.getPath('logs'), 'main.log')));
      app.exit(1);
    });
}
