// Runs in the Electron main process. The application menu: open, quit, developer tools only in
// development, and an About box that says what Resight is and is not.
import { dialog, type BrowserWindow, type MenuItemConstructorOptions, type MessageBoxOptions } from 'electron';
import { MENU_CHANNEL, type MenuCommand } from './channels';
import { isAppUrl } from './origin';

export interface MenuActions {
  openFile(): void;
  about(): void;
}

export function buildMenuTemplate(isPackaged: boolean, platform: NodeJS.Platform, actions: MenuActions): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const developer: MenuItemConstructorOptions[] = isPackaged
    ? []
    : [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }];
  return [
    ...(isMac ? [{ role: 'appMenu' } as const] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: () => actions.openFile() },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    // Cut/copy/paste in the note field; on macOS the shortcuts only work through this menu.
    { role: 'editMenu' },
    { label: 'View', submenu: [...developer, { role: 'togglefullscreen' }] },
    { role: 'help', submenu: [{ label: 'About Resight', click: () => actions.about() }] },
  ];
}

export function aboutBox(version: string): MessageBoxOptions {
  return {
    type: 'info',
    title: 'About Resight',
    message: `Resight ${version}`,
    detail:
      'Radiograph and DICOM review with a ResNet classifier and Grad-CAM heatmaps, running entirely on this workstation.\n\n' +
      'Resight is decision support, not a diagnosis: the reader looks at the image and makes the call.',
    buttons: ['OK'],
  };
}

export function showAbout(version: string, parent: BrowserWindow | null): void {
  const options = aboutBox(version);
  void (parent ? dialog.showMessageBox(parent, options) : dialog.showMessageBox(options));
}

/** Asks the page to run one of its own actions (the page owns the open flow and its state). */
export function sendMenuCommand(window: BrowserWindow | null, command: MenuCommand): void {
  if (window === null || window.isDestroyed() || !isAppUrl(window.webContents.getURL())) return;
  window.webContents.send(MENU_CHANNEL, command);
}
