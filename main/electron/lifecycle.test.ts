// Runs in Vitest (Node), 'electron' and the backend replaced by fakes. Startup order, failure, and an
// orderly shutdown that waits for the backend.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';

vi.mock('electron', () => import('./fake-electron'));
vi.mock('../api/backend', () => ({ createBackend: vi.fn() }));

import { IPC_INVOKE_CHANNEL, methodNames, ResightError } from '../../preload/api';
import { createBackend, type Backend } from '../api/backend';
import type { Handlers } from '../api/dispatch';
import { EventHub } from '../api/events';
import { OPEN_DIALOG_CHANNEL } from './channels';
import { app, BrowserWindow, dialog, fakeEvent, FakeWebContents, ipcMain, Menu, protocol, resetElectronFakes, session } from './fake-electron';
import { BACKEND_CLOSE_TIMEOUT_MS, runResight, USER_DATA_ENV } from './lifecycle';
import { secureWebPreferences } from './web-security';

const mockedCreateBackend = vi.mocked(createBackend);
let logsDir: string;
let stderr: MockInstance;

function fakeBackend(close: () => Promise<void> = async () => undefined): Backend {
  const handlers = Object.fromEntries(methodNames.map((m) => [m, vi.fn()])) as unknown as Handlers;
  return { handlers, events: new EventHub(), close: vi.fn(close) } as unknown as Backend;
}

async function startedApp(backend = fakeBackend()): Promise<Backend> {
  mockedCreateBackend.mockResolvedValue(backend);
  runResight();
  app.becomeReady();
  await vi.waitFor(() => expect(BrowserWindow.instances).toHaveLength(1));
  return backend;
}

beforeEach(() => {
  resetElectronFakes();
  mockedCreateBackend.mockReset();
  logsDir = mkdtempSync(path.join(os.tmpdir(), 'resight-logs-'));
  app.paths.set('logs', logsDir);
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  delete process.env[USER_DATA_ENV];
});

afterEach(() => {
  stderr.mockRestore();
  vi.useRealTimers();
  rmSync(logsDir, { recursive: true, force: true });
  delete process.env[USER_DATA_ENV];
});

describe('startup', () => {
  it('registers the privileged scheme and enables the sandbox before ready', () => {
    mockedCreateBackend.mockResolvedValue(fakeBackend());
    runResight();
    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledOnce();
    expect(app.enableSandbox).toHaveBeenCalledOnce();
    expect(protocol.handle).not.toHaveBeenCalled();
    expect(mockedCreateBackend).not.toHaveBeenCalled();
  });

  it('quits at once when another instance holds the lock', () => {
    app.lockGranted = false;
    runResight();
    expect(app.quit).toHaveBeenCalledOnce();
    expect(app.whenReady).not.toHaveBeenCalled();
    expect(mockedCreateBackend).not.toHaveBeenCalled();
  });

  it('when ready: secures the session, serves the renderer, creates the backend in userData, wires IPC, menu and a secure window', async () => {
    await startedApp();
    const ses = session.defaultSession;
    expect(ses.permissionRequestHandler).not.toBeNull();
    expect(ses.permissionCheckHandler).not.toBeNull();
    expect(ses.headersReceived).not.toBeNull();
    expect(protocol.handle).toHaveBeenCalledWith('resight', expect.any(Function));
    expect(mockedCreateBackend).toHaveBeenCalledWith(
      expect.objectContaining({ dataDir: '/fake/userData', frontDoor: 'electron', hostSpawner: expect.any(Function) }),
    );
    const options = mockedCreateBackend.mock.calls[0]?.[0];
    expect(options?.modelsDir.endsWith(`${path.sep}models`)).toBe(true);
    expect(options?.samplesDir.endsWith(path.join('assets', 'samples'))).toBe(true);
    expect([...ipcMain.handlers.keys()].sort()).toEqual([IPC_INVOKE_CHANNEL, OPEN_DIALOG_CHANNEL].sort());
    expect(Menu.setApplicationMenu).toHaveBeenCalledOnce();
    const window = BrowserWindow.instances[0];
    expect(window?.options.webPreferences).toEqual({ ...secureWebPreferences('', true), preload: expect.stringMatching(/preload\.cjs$/) });
    expect(window?.loadURL).toHaveBeenCalledWith('resight://app/index.html');
  });

  it('hardens every web contents the app creates', async () => {
    await startedApp();
    const contents = new FakeWebContents();
    app.emit('web-contents-created', {}, contents);
    expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(contents.listenerCount('will-navigate')).toBe(1);
  });

  it('uses the user-data folder named in the environment, before taking the single-instance lock', async () => {
    process.env[USER_DATA_ENV] = '/tmp/resight-e2e-profile';
    await startedApp();
    expect(app.setPath).toHaveBeenCalledWith('userData', path.resolve('/tmp/resight-e2e-profile'));
    expect(app.setPath.mock.invocationCallOrder[0]).toBeLessThan(app.requestSingleInstanceLock.mock.invocationCallOrder[0] ?? 0);
    expect(mockedCreateBackend.mock.calls[0]?.[0].dataDir).toBe(path.resolve('/tmp/resight-e2e-profile'));
  });

  it("shows a backend error's own sentence and exits when the backend cannot start", async () => {
    mockedCreateBackend.mockRejectedValue(new ResightError('DATABASE_TOO_NEW', 'This feedback database was written by a newer Resight; update Resight to open it.'));
    runResight();
    app.becomeReady();
    await vi.waitFor(() => expect(app.exit).toHaveBeenCalledWith(1));
    expect(dialog.showErrorBox).toHaveBeenCalledWith('Resight could not start', 'This feedback database was written by a newer Resight; update Resight to open it.');
    expect(BrowserWindow.instances).toHaveLength(0);
  });

  it('keeps the text of an unexpected startup error out of the dialog and points to the log', async () => {
    mockedCreateBackend.mockRejectedValue(new Error("SqliteError: unable to open '/home/jane.doe/secret'"));
    runResight();
    app.becomeReady();
    await vi.waitFor(() => expect(app.exit).toHaveBeenCalledWith(1));
    const message = String(dialog.showErrorBox.mock.calls[0]?.[1]);
    expect(message).not.toContain('jane.doe');
    expect(message).toContain(path.join(logsDir, 'main.log'));
  });
});

describe('quitting', () => {
  it('holds the quit until the backend has closed, then quits once more', async () => {
    let finishClose: () => void = () => undefined;
    const backend = await startedApp(fakeBackend(() => new Promise<void>((resolve) => (finishClose = resolve))));
    const first = fakeEvent({});
    app.emit('before-quit', first);
    expect(first.defaultPrevented).toBe(true);
    expect(backend.close).toHaveBeenCalledOnce();
    expect(ipcMain.handlers.size).toBe(0);

    const impatient = fakeEvent({});
    app.emit('before-quit', impatient);
    expect(impatient.defaultPrevented).toBe(true);
    expect(backend.close).toHaveBeenCalledOnce();
    expect(app.quit).not.toHaveBeenCalled();

    finishClose();
    await vi.waitFor(() => expect(app.quit).toHaveBeenCalledOnce());
    const final = fakeEvent({});
    app.emit('before-quit', final);
    expect(final.defaultPrevented).toBe(false);
  });

  it('quits anyway when the backend does not close in time', async () => {
    await startedApp(fakeBackend(() => new Promise<void>(() => undefined)));
    vi.useFakeTimers();
    app.emit('before-quit', fakeEvent({}));
    await vi.advanceTimersByTimeAsync(BACKEND_CLOSE_TIMEOUT_MS - 1);
    expect(app.quit).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(app.quit).toHaveBeenCalledOnce();
  });

  it('quits when the last window closes (except on macOS)', async () => {
    await startedApp();
    app.emit('window-all-closed');
    if (process.platform === 'darwin') expect(app.quit).not.toHaveBeenCalled();
    else expect(app.quit).toHaveBeenCalledOnce();
  });
});
