// Runs in Vitest (Node), 'electron' replaced by fake-electron.ts. preload/index.ts exposes the bridge and nothing else.
import { beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron'));

import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../../preload/api';
import { MENU_CHANNEL, OPEN_DIALOG_CHANNEL, type ResightDesktopBridge } from './channels';
import { contextBridge, ipcRenderer } from './fake-electron';

let bridge: ResightDesktopBridge;

beforeAll(async () => {
  await import('../../preload/index');
  const [name, exposed] = contextBridge.exposeInMainWorld.mock.calls[0] ?? [];
  expect(name).toBe('resight');
  bridge = exposed as ResightDesktopBridge;
});

describe('preload bridge (window.resight)', () => {
  it('exposes exactly the bridge and nothing of ipcRenderer', () => {
    expect(contextBridge.exposeInMainWorld).toHaveBeenCalledOnce();
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on', 'onMenuCommand', 'openFileDialog']);
  });

  it('invokes calls on the contract channel', async () => {
    ipcRenderer.invoke.mockResolvedValueOnce({ ok: true, value: 'v' });
    await expect(bridge.invoke('studies.openSample', { name: 'chest.png' })).resolves.toEqual({ ok: true, value: 'v' });
    expect(ipcRenderer.invoke).toHaveBeenLastCalledWith(IPC_INVOKE_CHANNEL, 'studies.openSample', { name: 'chest.png' });
  });

  it('delivers only the named event, payload only, until unsubscribed', () => {
    const listener = vi.fn();
    const unsubscribe = bridge.on('inference.hostStatus', listener);
    const sender = { send: vi.fn() };
    ipcRenderer.emit(IPC_EVENT_CHANNEL, { sender }, { name: 'inference.progress', payload: { requestId: 'r', done: 1, total: 2 } });
    ipcRenderer.emit(IPC_EVENT_CHANNEL, { sender }, { name: 'inference.hostStatus', payload: { state: 'ready' } });
    expect(listener).toHaveBeenCalledExactlyOnceWith({ state: 'ready' });
    unsubscribe();
    expect(ipcRenderer.listenerCount(IPC_EVENT_CHANNEL)).toBe(0);
    ipcRenderer.emit(IPC_EVENT_CHANNEL, { sender }, { name: 'inference.hostStatus', payload: { state: 'crashed' } });
    expect(listener).toHaveBeenCalledOnce();
  });

  it('asks main for the open dialog on its own channel', async () => {
    ipcRenderer.invoke.mockResolvedValueOnce('/images/a.dcm');
    await expect(bridge.openFileDialog()).resolves.toBe('/images/a.dcm');
    expect(ipcRenderer.invoke).toHaveBeenLastCalledWith(OPEN_DIALOG_CHANNEL);
  });

  it('passes on known menu commands only', () => {
    const listener = vi.fn();
    const unsubscribe = bridge.onMenuCommand(listener);
    ipcRenderer.emit(MENU_CHANNEL, {}, 'format-disk');
    ipcRenderer.emit(MENU_CHANNEL, {}, 'open-file');
    expect(listener).toHaveBeenCalledExactlyOnceWith('open-file');
    unsubscribe();
    expect(ipcRenderer.listenerCount(MENU_CHANNEL)).toBe(0);
  });
});
