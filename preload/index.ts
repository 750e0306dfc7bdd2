// Runs in the sandboxed preload of the app window. Exposes window.resight: the contract's bridge
// over IPC plus the native open dialog and menu commands. No other logic lives here.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ResightDesktopBridge } from '../main/electron/channels';
import type { EventName } from './api';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, MENU_CHANNEL, MENU_COMMANDS, OPEN_DIALOG_CHANNEL, type MenuCommand } from './channels';

/** Subscribes to one IPC channel; the renderer never sees the IpcRendererEvent (it exposes `sender`). */
function listen(channel: string, onMessage: (message: unknown) => void): () => void {
  const handler = (_event: IpcRendererEvent, message: unknown): void => onMessage(message);
  ipcRenderer.on(channel, handler);
  return () => {
    ipcRenderer.removeListener(channel, handler);
  };
}

const bridge: ResightDesktopBridge = {
  invoke: (method, input) => ipcRenderer.invoke(IPC_INVOKE_CHANNEL, method, input),
  on: (name, listener) =>
    listen(IPC_EVENT_CHANNEL, (message) => {
      const { name: received, payload } = message as { name: EventName; payload: never };
      if (received === name) listener(payload);
    }),
  openFileDialog: () => ipcRenderer.invoke(OPEN_DIALOG_CHANNEL),
  onMenuCommand: (listener) =>
    listen(MENU_CHANNEL, (command) => {
      if (MENU_COMMANDS.includes(command as MenuCommand)) listener(command as MenuCommand);
    }),
};

contextBridge.exposeInMainWorld('resight', bridge);
