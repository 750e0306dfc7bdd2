// Runs in Vitest (Node), 'electron' replaced by fake-electron.ts. IPC calls from anything but a
// resight://app frame are refused before dispatch; events reach only the app page.
import type { IpcMain, WebContents } from 'electron';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron'));

import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, methodNames } from '../../preload/api';
import type { Handlers } from '../api/dispatch';
import { EventHub } from '../api/events';
import { OPEN_DIALOG_CHANNEL } from './channels';
import { FakeWebContents, ipcMain, resetElectronFakes } from './fake-electron';
import { FORBIDDEN_ENVELOPE, forwardEvents, handleInvoke, handleOpenDialog, isTrustedSender, registerIpc } from './ipc';

const APP_INFO = { name: 'Resight', version: '0.0.0', apiVersion: 1, frontDoor: 'electron', platform: 'test' } as const;

/** Every handler is a spy; only app.info answers, the rest fail loudly if reached. */
function spyHandlers(): Handlers {
  const handlers = Object.fromEntries(
    methodNames.map((name) => [name, vi.fn(async () => Promise.reject(new Error(`${name} should not run`)))]),
  ) as unknown as Handlers;
  handlers['app.info'] = vi.fn(async () => APP_INFO);
  return handlers;
}

const frame = (url: string) => ({ senderFrame: { url } });
const deps = () => ({ handlers: spyHandlers(), reader: 'dr.test', log: vi.fn() });

beforeEach(() => resetElectronFakes());

describe('handleInvoke', () => {
  it.each([
    ['a page on another origin', frame('https://evil.example/')],
    ['a file:// page', frame('file:///home/user/evil.html')],
    ['a look-alike host', frame('resight://app.evil.example/index.html')],
    ['another host on the app scheme', frame('resight://evil/index.html')],
    ['credentials in the URL', frame('resight://user@app/index.html')],
    ['an empty URL', frame('')],
    ['a frame that is gone (null)', { senderFrame: null }],
  ])('answers FORBIDDEN to %s and runs nothing', async (_what, event) => {
    const d = deps();
    const envelope = await handleInvoke(d, event, 'app.info', {});
    expect(envelope).toEqual(FORBIDDEN_ENVELOPE);
    expect(envelope.ok === false && envelope.error.code).toBe('FORBIDDEN');
    for (const handler of Object.values(d.handlers)) expect(handler).not.toHaveBeenCalled();
  });

  it('answers FORBIDDEN when reading the sender frame throws (frame destroyed mid-call)', async () => {
    const d = deps();
    const event = {
      get senderFrame(): { url: string } {
        throw new Error('Render frame was disposed before WebFrameMain could be accessed');
      },
    };
    expect(await handleInvoke(d, event, 'app.info', {})).toEqual(FORBIDDEN_ENVELOPE);
    expect(d.handlers['app.info']).not.toHaveBeenCalled();
  });

  it('dispatches a call from the app window with the Electron front door and the reader', async () => {
    const d = deps();
    const envelope = await handleInvoke(d, frame('resight://app/index.html'), 'app.info', {});
    expect(envelope).toEqual({ ok: true, value: APP_INFO });
    expect(d.handlers['app.info']).toHaveBeenCalledWith({}, { frontDoor: 'electron', reader: 'dr.test' });
  });

  it('still validates arguments from the app window', async () => {
    const d = deps();
    const envelope = await handleInvoke(d, frame('resight://app/index.html'), 'studies.openSample', { name: 42 });
    expect(envelope.ok === false && envelope.error.code).toBe('INVALID_ARGUMENT');
    expect(d.handlers['studies.openSample']).not.toHaveBeenCalled();
  });

  it('treats only resight://app frames as trusted', () => {
    expect(isTrustedSender(frame('resight://app/index.html'))).toBe(true);
    expect(isTrustedSender(frame('resight://app/'))).toBe(true);
    expect(isTrustedSender(frame('resight://app:8080/'))).toBe(false);
    expect(isTrustedSender(frame('devtools://devtools/bundled/inspector.html'))).toBe(false);
  });
});

describe('registerIpc', () => {
  const register = () => {
    const d = { ...deps(), ipcMain: ipcMain as unknown as IpcMain, showOpenDialog: vi.fn(async () => ({ canceled: false, filePaths: ['/images/chest.dcm'] })) };
    const unregister = registerIpc(d);
    return { d, unregister };
  };

  it('routes the invoke channel through the sender check and dispatch', async () => {
    const { d } = register();
    const invoke = ipcMain.handlers.get(IPC_INVOKE_CHANNEL);
    expect(await invoke?.(frame('https://evil.example/'), 'app.info', {})).toEqual(FORBIDDEN_ENVELOPE);
    expect(d.handlers['app.info']).not.toHaveBeenCalled();
    expect(await invoke?.(frame('resight://app/index.html'), 'app.info', {})).toEqual({ ok: true, value: APP_INFO });
  });

  it('removes both handlers when undone', () => {
    const { unregister } = register();
    expect([...ipcMain.handlers.keys()].sort()).toEqual([IPC_INVOKE_CHANNEL, OPEN_DIALOG_CHANNEL].sort());
    unregister();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('shows the open dialog only for the app window', async () => {
    const { d } = register();
    const open = ipcMain.handlers.get(OPEN_DIALOG_CHANNEL);
    const sender = new FakeWebContents();
    expect(await open?.({ ...frame('https://evil.example/'), sender })).toBeNull();
    expect(d.showOpenDialog).not.toHaveBeenCalled();
    expect(await open?.({ senderFrame: null, sender })).toBeNull();
    expect(await open?.({ ...frame('resight://app/index.html'), sender })).toBe('/images/chest.dcm');
    expect(d.showOpenDialog).toHaveBeenCalledWith(sender);
  });
});

describe('handleOpenDialog', () => {
  it('answers null when the reader cancels', async () => {
    const sender = new FakeWebContents() as unknown as WebContents;
    const show = vi.fn(async () => ({ canceled: true, filePaths: [] }));
    expect(await handleOpenDialog({ ...frame('resight://app/index.html'), sender }, show, vi.fn())).toBeNull();
  });
});

describe('forwardEvents', () => {
  it('sends backend events to the app window as {name, payload}', () => {
    const hub = new EventHub();
    const contents = new FakeWebContents();
    contents.url = 'resight://app/index.html';
    forwardEvents(hub, () => contents as unknown as WebContents);
    hub.emit('inference.hostStatus', { state: 'ready' });
    expect(contents.send).toHaveBeenCalledWith(IPC_EVENT_CHANNEL, { name: 'inference.hostStatus', payload: { state: 'ready' } });
  });

  it('sends nothing to a page that is not the app, a destroyed window, or no window; and stops when unsubscribed', () => {
    const hub = new EventHub();
    const contents = new FakeWebContents();
    let target: FakeWebContents | null = contents;
    const unsubscribe = forwardEvents(hub, () => target as unknown as WebContents | null);
    contents.url = 'https://evil.example/';
    hub.emit('inference.hostStatus', { state: 'ready' });
    contents.url = 'resight://app/index.html';
    contents.destroyed = true;
    hub.emit('inference.hostStatus', { state: 'ready' });
    target = null;
    hub.emit('inference.hostStatus', { state: 'ready' });
    contents.destroyed = false;
    target = contents;
    unsubscribe();
    hub.emit('inference.hostStatus', { state: 'ready' });
    expect(contents.send).not.toHaveBeenCalled();
  });
});
