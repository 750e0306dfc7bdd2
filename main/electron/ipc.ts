// Runs in the Electron main process. Wires the contract's IPC channels to the backend: every call
// is refused unless it comes from a frame on resight://app, then validated and run by dispatch().
import type { IpcMain, OpenDialogOptions, WebContents } from 'electron';
import os from 'node:os';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type Envelope } from '../../preload/api';
import { dispatch, type Handlers, type Logger } from '../api/dispatch';
import type { EventHub } from '../api/events';
import { OPEN_DIALOG_CHANNEL } from './channels';
import { isAppUrl } from './origin';

/** The part of an IPC event the checks read; `senderFrame` is null once the frame is gone. */
export interface IpcSender {
  readonly senderFrame: { readonly url: string } | null;
}

export const FORBIDDEN_ENVELOPE: Envelope<never> = {
  ok: false,
  error: { code: 'FORBIDDEN', message: 'This request did not come from the Resight window, so it was refused.' },
};

export function isTrustedSender(event: IpcSender): boolean {
  try {
    const frame = event.senderFrame;
    return frame !== null && isAppUrl(frame.url);
  } catch {
    // Reading a frame that was destroyed mid-call throws; a frame that is gone is not trusted.
    return false;
  }
}

/** The OS account name: who feedback is attributed to at this workstation. */
export function readerName(): string {
  try {
    return os.userInfo().username || 'reader';
  } catch {
    return 'reader';
  }
}

export interface InvokeDeps {
  handlers: Handlers;
  reader: string;
  log: Logger;
}

export async function handleInvoke(deps: InvokeDeps, event: IpcSender, method: unknown, input: unknown): Promise<Envelope<unknown>> {
  if (!isTrustedSender(event)) {
    deps.log('refused an IPC call from a frame outside resight://app');
    return FORBIDDEN_ENVELOPE;
  }
  return dispatch(deps.handlers, method, input, { frontDoor: 'electron', reader: deps.reader }, deps.log);
}

export const OPEN_DIALOG_OPTIONS: OpenDialogOptions = {
  title: 'Open an image',
  properties: ['openFile'],
  filters: [
    { name: 'DICOM, PNG and JPEG images', extensions: ['dcm', 'dicom', 'png', 'jpg', 'jpeg'] },
    { name: 'DICOM', extensions: ['dcm', 'dicom'] },
    { name: 'PNG', extensions: ['png'] },
    { name: 'JPEG', extensions: ['jpg', 'jpeg'] },
    // DICOM files are often named by UID with no extension at all.
    { name: 'All files', extensions: ['*'] },
  ],
};

export type ShowOpenDialog = (sender: WebContents) => Promise<{ canceled: boolean; filePaths: string[] }>;

export async function handleOpenDialog(
  event: IpcSender & { readonly sender: WebContents },
  show: ShowOpenDialog,
  log: Logger,
): Promise<string | null> {
  if (!isTrustedSender(event)) {
    log('refused an open-dialog request from a frame outside resight://app');
    return null;
  }
  const result = await show(event.sender);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

export interface IpcDeps extends InvokeDeps {
  ipcMain: IpcMain;
  showOpenDialog: ShowOpenDialog;
}

/** Registers the handlers; returns a function that removes them. */
export function registerIpc(deps: IpcDeps): () => void {
  deps.ipcMain.handle(IPC_INVOKE_CHANNEL, (event, method: unknown, input: unknown) => handleInvoke(deps, event, method, input));
  deps.ipcMain.handle(OPEN_DIALOG_CHANNEL, (event) => handleOpenDialog(event, deps.showOpenDialog, deps.log));
  return () => {
    deps.ipcMain.removeHandler(IPC_INVOKE_CHANNEL);
    deps.ipcMain.removeHandler(OPEN_DIALOG_CHANNEL);
  };
}

/** Pushes backend events to the app window, and only while it shows the app. Returns the unsubscribe. */
export function forwardEvents(hub: EventHub, target: () => WebContents | null): () => void {
  return hub.subscribe((name, payload) => {
    const contents = target();
    if (contents === null || contents.isDestroyed() || !isAppUrl(contents.getURL())) return;
    contents.send(IPC_EVENT_CHANNEL, { name, payload });
  });
}
