// Runs in Vitest (Node), 'electron' replaced by fake-electron.ts. Menu contents in development and packaged builds, and About.
import type { BrowserWindow as ElectronWindow, MenuItemConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron'));

import { MENU_CHANNEL } from './channels';
import { BrowserWindow, dialog, resetElectronFakes } from './fake-electron';
import { aboutBox, buildMenuTemplate, sendMenuCommand, showAbout } from './menu';

beforeEach(() => resetElectronFakes());

function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? flatten(item.submenu) : [])]);
}

const actions = () => ({ openFile: vi.fn(), about: vi.fn() });
const roles = (items: MenuItemConstructorOptions[]) => flatten(items).map((i) => i.role).filter(Boolean);

describe('application menu', () => {
  it('offers reload and developer tools only in development', () => {
    const dev = roles(buildMenuTemplate(false, 'linux', actions()));
    expect(dev).toEqual(expect.arrayContaining(['reload', 'toggleDevTools']));
    for (const platform of ['linux', 'win32', 'darwin'] as const) {
      const packaged = roles(buildMenuTemplate(true, platform, actions()));
      expect(packaged).not.toContain('toggleDevTools');
      expect(packaged).not.toContain('reload');
      expect(packaged).not.toContain('forceReload');
    }
  });

  it('has File › Open… that asks the page to open a file, and Quit', () => {
    const a = actions();
    const template = buildMenuTemplate(true, 'linux', a);
    const file = template.find((i) => i.label === 'File');
    const items = flatten(file ? [file] : []);
    const open = items.find((i) => i.label === 'Open…');
    open?.click?.({} as never, undefined, {} as never);
    expect(a.openFile).toHaveBeenCalledOnce();
    expect(open?.accelerator).toBe('CmdOrCtrl+O');
    expect(roles(items)).toContain('quit');
  });

  it('has Help › About Resight', () => {
    const a = actions();
    const about = flatten(buildMenuTemplate(true, 'win32', a)).find((i) => i.label === 'About Resight');
    about?.click?.({} as never, undefined, {} as never);
    expect(a.about).toHaveBeenCalledOnce();
  });

  it('says in About what version this is and that it is decision support, not a diagnosis', () => {
    const box = aboutBox('1.2.3');
    expect(box.message).toContain('1.2.3');
    expect(box.detail).toContain('decision support, not a diagnosis');
    showAbout('1.2.3', null);
    expect(dialog.showMessageBox).toHaveBeenCalledWith(box);
  });
});

describe('sendMenuCommand', () => {
  it('sends the command to the app page only', () => {
    const window = new BrowserWindow({});
    window.webContents.url = 'resight://app/index.html';
    sendMenuCommand(window as unknown as ElectronWindow, 'open-file');
    expect(window.webContents.send).toHaveBeenCalledWith(MENU_CHANNEL, 'open-file');

    window.webContents.send.mockClear();
    window.webContents.url = 'https://evil.example/';
    sendMenuCommand(window as unknown as ElectronWindow, 'open-file');
    sendMenuCommand(null, 'open-file');
    expect(window.webContents.send).not.toHaveBeenCalled();
  });
});
