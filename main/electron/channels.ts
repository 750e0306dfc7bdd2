// Runs in the Electron main process and the preload. Desktop-only IPC channels (beyond the
// contract's invoke/event pair) and the extra surface they add to window.resight.
import type { ResightBridge } from '../../preload/api';
import type { MenuCommand } from '../../preload/channels';

export { MENU_CHANNEL, MENU_COMMANDS, OPEN_DIALOG_CHANNEL, type MenuCommand } from '../../preload/channels';

/** window.resight under Electron: the contract's bridge plus the native file dialog and menu. */
export interface ResightDesktopBridge extends ResightBridge {
  openFileDialog(): Promise<string | null>;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}
