// Runs in tests only. Hand-written stand-ins for the parts of 'electron' that main/electron uses,
// recording what the code under test did. Tests load it with
// `vi.mock('electron', () => import('./fake-electron'))` and call resetElectronFakes() between tests.
import { vi } from 'vitest';

type Listener = (...args: never[]) => unknown;

export class FakeEmitter {
  private readonly listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapped = ((...args: never[]) => {
      this.off(event, wrapped);
      return listener(...args);
    }) as Listener;
    return this.on(event, wrapped);
  }

  off(event: string, listener: Listener): this {
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  }

  removeListener(event: string, listener: Listener): this {
    return this.off(event, listener);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as (...a: unknown[]) => unknown)(...args);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  removeAllListeners(): this {
    this.listeners.clear();
    return this;
  }
}

/** An event as Electron passes it to navigation and webview listeners. */
export function fakeEvent<T extends object>(params: T): T & { preventDefault: () => void; defaultPrevented: boolean } {
  const event = {
    ...params,
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
  };
  return event;
}

export class FakeWebContents extends FakeEmitter {
  url = '';
  destroyed = false;
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  readonly send = vi.fn();

  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  getURL(): string {
    return this.url;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export class BrowserWindow extends FakeEmitter {
  static instances: BrowserWindow[] = [];
  static fromWebContents(contents: FakeWebContents): BrowserWindow | null {
    return BrowserWindow.instances.find((w) => w.webContents === contents) ?? null;
  }

  readonly webContents = new FakeWebContents();
  readonly show = vi.fn();
  readonly focus = vi.fn();
  readonly restore = vi.fn();
  readonly loadURL = vi.fn(async (url: string) => {
    this.webContents.url = url;
  });

  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.instances.push(this);
  }
  isMinimized(): boolean {
    return false;
  }
  isDestroyed(): boolean {
    return this.webContents.destroyed;
  }
}

export class FakeSession {
  permissionRequestHandler: ((contents: unknown, permission: string, callback: (granted: boolean) => void, details: unknown) => void) | null = null;
  permissionCheckHandler: ((contents: unknown, permission: string, origin: string, details: unknown) => boolean) | null = null;
  headersReceived: ((details: { url: string; responseHeaders?: Record<string, string[]> }, callback: (r: unknown) => void) => void) | null = null;
  beforeRequest: { filter: { urls: string[] }; listener: (details: { url: string }, callback: (r: unknown) => void) => void } | null = null;

  setPermissionRequestHandler(handler: FakeSession['permissionRequestHandler']): void {
    this.permissionRequestHandler = handler;
  }
  setPermissionCheckHandler(handler: FakeSession['permissionCheckHandler']): void {
    this.permissionCheckHandler = handler;
  }
  readonly webRequest = {
    onHeadersReceived: (listener: FakeSession['headersReceived']) => {
      this.headersReceived = listener;
    },
    onBeforeRequest: (filter: { urls: string[] }, listener: NonNullable<FakeSession['beforeRequest']>['listener']) => {
      this.beforeRequest = { filter, listener };
    },
  };
}

export class FakeIpcMain {
  readonly handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  handle(channel: string, handler: (event: unknown, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`a handler for ${channel} is already registered`);
    this.handlers.set(channel, handler);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

export class FakeUtilityProcess extends FakeEmitter {
  readonly postMessage = vi.fn();
  readonly kill = vi.fn(() => true);
}

class FakeApp extends FakeEmitter {
  isPackaged = false;
  lockGranted = true;
  readonly paths = new Map<string, string>();
  private ready: () => void = () => undefined;
  private readyPromise = this.newReadyPromise();

  private newReadyPromise(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.ready = resolve;
    });
  }

  reset(): void {
    this.removeAllListeners();
    this.isPackaged = false;
    this.lockGranted = true;
    this.paths.clear();
    this.readyPromise = this.newReadyPromise();
  }

  readonly setPath = vi.fn((name: string, value: string) => {
    this.paths.set(name, value);
  });
  readonly getPath = vi.fn((name: string) => this.paths.get(name) ?? `/fake/${name}`);
  readonly requestSingleInstanceLock = vi.fn(() => this.lockGranted);
  readonly enableSandbox = vi.fn();
  readonly quit = vi.fn();
  readonly exit = vi.fn();
  readonly getVersion = vi.fn(() => '9.8.7');
  readonly whenReady = vi.fn(() => this.readyPromise);

  /** Resolves whenReady(), as Electron does once it has initialised. */
  becomeReady(): void {
    this.ready();
  }
}

// Module bindings never change (code under test holds them); resetElectronFakes() resets them in place.
export const app = new FakeApp();
export const ipcMain = new FakeIpcMain();
export const session = { defaultSession: new FakeSession() };
export const protocol = { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() };
export const shell = { openExternal: vi.fn(async () => undefined) };
export const dialog = {
  showOpenDialog: vi.fn(async () => ({ canceled: true, filePaths: [] as string[] })),
  showMessageBox: vi.fn(async () => ({ response: 0, checkboxChecked: false })),
  showErrorBox: vi.fn(),
};
export const Menu = {
  buildFromTemplate: vi.fn((template: unknown[]) => ({ template })),
  setApplicationMenu: vi.fn(),
};
export const utilityProcess = {
  children: [] as FakeUtilityProcess[],
  fork: vi.fn((): FakeUtilityProcess => {
    const child = new FakeUtilityProcess();
    utilityProcess.children.push(child);
    return child;
  }),
};
export const ipcRenderer = new (class extends FakeEmitter {
  readonly invoke = vi.fn(async (..._args: unknown[]): Promise<unknown> => undefined);
})();
export const contextBridge = { exposeInMainWorld: vi.fn() };
/** A reversible stand-in for the OS keychain; tests set `available` and `backend`. */
export const safeStorage = {
  available: true,
  backend: 'gnome_libsecret',
  isEncryptionAvailable: vi.fn(() => safeStorage.available),
  getSelectedStorageBackend: vi.fn(() => safeStorage.backend),
  encryptString: vi.fn((plain: string) => Buffer.from(`sealed:${Buffer.from(plain, 'utf8').toString('base64')}`)),
  decryptString: vi.fn((sealed: Buffer) => Buffer.from(sealed.toString().replace(/^sealed:/, ''), 'base64').toString('utf8')),
};

export function resetElectronFakes(): void {
  app.reset();
  ipcMain.handlers.clear();
  const ses = session.defaultSession;
  ses.permissionRequestHandler = null;
  ses.permissionCheckHandler = null;
  ses.headersReceived = null;
  ses.beforeRequest = null;
  ipcRenderer.removeAllListeners();
  BrowserWindow.instances = [];
  utilityProcess.children = [];
  safeStorage.available = true;
  safeStorage.backend = 'gnome_libsecret';
  vi.clearAllMocks();
}
