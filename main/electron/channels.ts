// Runs in the Electron main process and the preload. Desktop-only IPC channels (beyond the
// contract's invoke/event pair) and the extra surface they add to window.resight.
import type { ResightBridge } from '../../preload/api';

/** Renderer → main: show the native open dialog; answers the chosen path or null. */
export const OPEN_DIALOG_CHANNEL = 'resight:open-dialog';
/** Main → renderer: a menu item asks the page to run one of its own actions. */
export const MENU_CHANNEL = 'resight:menu';

export const MENU_COMMANDS = ['open-file'] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

/** window.resight under Electron: the contract's bridge plus the native file dialog and menu. */
export interface ResightDesktopBridge extends ResightBridge {
  openFileDialog(): Promise<string | null>;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}
