import path from 'node:path';
import type { BrowserWindowConstructorOptions, HeadersReceivedResponse, MenuItemConstructorOptions, NotificationConstructorOptions, WindowOpenHandlerResponse } from 'electron';
import type {
  AppLike,
  BrowserWindowLike,
  DesktopElectron,
  FrameLike,
  HeadersReceivedCallback,
  HeadersReceivedDetailsLike,
  InvokeEventLike,
  IpcMainLike,
  MenuApiLike,
  NavigationEventLike,
  NotificationConstructorLike,
  NotificationLike,
  PreventableEvent,
  SafeStorageLike,
  SessionLike,
  ShellLike,
  TrayLike,
  WebContentsLike,
  WindowOpenDetailsLike,
} from '../../../electron/shell/electron-surface';
import type { IpcRendererLike } from '../../../electron/shell/preload-bridge';
import type { Logger } from '../../../electron/services/logger';

/*
 * Plain stand-ins for Electron's main-process modules: they record what the shell asked for and
 * let a test play Electron's side (emit events, send IPC). No Electron binary involved.
 */

type Listener = (...args: never[]) => unknown;

/** A tiny event emitter with Electron's `on`/`once` shape. */
export class FakeEmitter {
  private readonly listeners = new Map<string, Array<{ listener: Listener; once: boolean }>>();

  on(event: string, listener: Listener): this {
    this.add(event, listener, false);
    return this;
  }

  once(event: string, listener: Listener): this {
    this.add(event, listener, true);
    return this;
  }

  removeListener(event: string, listener: Listener): this {
    const list = this.listeners.get(event) ?? [];
    this.listeners.set(
      event,
      list.filter((entry) => entry.listener !== listener),
    );
    return this;
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  emit(event: string, ...args: unknown[]): unknown[] {
    const list = this.listeners.get(event) ?? [];
    this.listeners.set(
      event,
      list.filter((entry) => !entry.once),
    );
    return list.map((entry) => (entry.listener as (...callArgs: unknown[]) => unknown)(...args));
  }

  private add(event: string, listener: Listener, once: boolean): void {
    const list = this.listeners.get(event) ?? [];
    list.push({ listener, once });
    this.listeners.set(event, list);
  }
}

export class FakePreventable implements PreventableEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeNavigationEvent extends FakePreventable implements NavigationEventLike {
  constructor(readonly url: string) {
    super();
  }
}

let nextId = 1;

export class FakeFrame implements FrameLike {
  constructor(
    public url: string,
    readonly parent: FakeFrame | null = null,
    readonly processId = 100,
    readonly routingId = nextId++,
  ) {}
}

export class FakeWebContents extends FakeEmitter implements WebContentsLike {
  readonly id = nextId++;
  readonly mainFrame: FakeFrame;
  destroyed = false;
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  windowOpenHandler: ((details: WindowOpenDetailsLike) => WindowOpenHandlerResponse) | null = null;

  constructor(url = 'about:blank') {
    super();
    this.mainFrame = new FakeFrame(url);
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args });
  }

  setWindowOpenHandler(handler: (details: WindowOpenDetailsLike) => WindowOpenHandlerResponse): void {
    this.windowOpenHandler = handler;
  }

  /** Plays the page calling window.open(url). */
  openWindow(url: string): WindowOpenHandlerResponse | undefined {
    return this.windowOpenHandler?.({ url });
  }

  /** Plays a navigation attempt; returns whether the shell let it happen. */
  navigate(url: string, kind: 'will-navigate' | 'will-redirect' = 'will-navigate'): boolean {
    const event = new FakeNavigationEvent(url);
    this.emit(kind, event);
    if (!event.defaultPrevented && kind === 'will-navigate') this.mainFrame.url = url;
    return !event.defaultPrevented;
  }

  /** An IPC event as Electron would build it for a message from `frame` of this webContents. */
  invokeEvent(frame: FrameLike | null = this.mainFrame): InvokeEventLike {
    return { sender: { id: this.id }, senderFrame: frame };
  }
}

export class FakeBrowserWindow extends FakeEmitter implements BrowserWindowLike {
  readonly webContents = new FakeWebContents();
  readonly loadedUrls: string[] = [];
  destroyed = false;
  visible = false;
  minimized = false;
  focused = 0;

  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.minimized = false;
  }
  show(): void {
    this.visible = true;
  }
  focus(): void {
    this.focused += 1;
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrls.push(url);
    this.webContents.mainFrame.url = url;
  }

  /** Plays the user closing the window. */
  close(): void {
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
}

type InvokeListener = (event: InvokeEventLike, ...args: unknown[]) => unknown;

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, InvokeListener>();

  handle(channel: string, listener: InvokeListener): void {
    // Electron throws on a second handler for one channel; so do we.
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** Plays ipcRenderer.invoke arriving in the main process. */
  async invoke(channel: string, event: InvokeEventLike, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler(event, ...args);
  }
}

type RendererListener = (event: unknown, ...args: unknown[]) => void;

/** Stands in for the preload's ipcRenderer, optionally wired to a FakeIpcMain. */
export class FakeIpcRenderer implements IpcRendererLike {
  readonly invoked: Array<{ channel: string; args: unknown[] }> = [];
  readonly listeners = new Map<string, RendererListener[]>();
  answer: (channel: string, args: unknown[]) => Promise<unknown> = async () => ({ ok: true, result: null });

  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invoked.push({ channel, args });
    return this.answer(channel, args);
  }

  on(channel: string, listener: RendererListener): this {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  }

  removeListener(channel: string, listener: RendererListener): this {
    this.listeners.set(
      channel,
      (this.listeners.get(channel) ?? []).filter((entry) => entry !== listener),
    );
    return this;
  }

  /** Plays a message from the main process; the first argument is the IpcRendererEvent. */
  deliver(channel: string, ...args: unknown[]): void {
    const ipcEvent = { sender: this, senderId: 0 };
    for (const listener of this.listeners.get(channel) ?? []) listener(ipcEvent, ...args);
  }
}

type HeadersListener = (details: HeadersReceivedDetailsLike, callback: HeadersReceivedCallback) => void;

export class FakeSession implements SessionLike {
  headersListener: HeadersListener | null = null;
  permissionRequestHandler: ((webContents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null = null;
  permissionCheckHandler: ((webContents: unknown, permission: string) => boolean) | null = null;

  readonly webRequest = {
    onHeadersReceived: (listener: HeadersListener): void => {
      this.headersListener = listener;
    },
  };

  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void {
    this.permissionRequestHandler = handler;
  }

  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void {
    this.permissionCheckHandler = handler;
  }

  /** Plays a response arriving; returns what the shell answered. */
  receiveHeaders(details: HeadersReceivedDetailsLike): HeadersReceivedResponse {
    let answer: HeadersReceivedResponse | undefined;
    this.headersListener?.(details, (response) => {
      answer = response;
    });
    if (answer === undefined) throw new Error('onHeadersReceived listener did not call back');
    return answer;
  }
}

export class FakeShell implements ShellLike {
  readonly opened: string[] = [];
  async openExternal(url: string): Promise<void> {
    this.opened.push(url);
  }
}

/** safeStorage stand-in: "encrypts" by XOR with a key, so sealed bytes differ from the plain text. */
export class FakeSafeStorage implements SafeStorageLike {
  available = true;
  backend = 'gnome_libsecret';

  isEncryptionAvailable(): boolean {
    return this.available;
  }
  encryptString(plainText: string): Buffer {
    if (!this.available) throw new Error('Encryption is not available.');
    return Buffer.concat([Buffer.from('SEAL'), xor(Buffer.from(plainText, 'utf8'))]);
  }
  decryptString(encrypted: Buffer): string {
    if (!this.available) throw new Error('Decryption is not available.');
    if (encrypted.subarray(0, 4).toString() !== 'SEAL') throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    return xor(encrypted.subarray(4)).toString('utf8');
  }
  getSelectedStorageBackend(): string {
    return this.backend;
  }
}

function xor(bytes: Buffer): Buffer {
  return Buffer.from(bytes.map((byte, index) => byte ^ (0x5a + index) % 256));
}

export interface FakeMenu {
  readonly template: MenuItemConstructorOptions[];
}

export class FakeMenuApi implements MenuApiLike {
  applicationMenu: FakeMenu | null = null;
  readonly built: FakeMenu[] = [];

  buildFromTemplate(template: MenuItemConstructorOptions[]): FakeMenu {
    const menu = { template };
    this.built.push(menu);
    return menu;
  }

  setApplicationMenu(menu: object | null): void {
    this.applicationMenu = menu as FakeMenu | null;
  }
}

export class FakeTray extends FakeEmitter implements TrayLike {
  toolTip = '';
  contextMenu: FakeMenu | null = null;
  destroyed = false;

  constructor(readonly image: string) {
    super();
  }

  setToolTip(toolTip: string): void {
    this.toolTip = toolTip;
  }
  setContextMenu(menu: object | null): void {
    this.contextMenu = menu as FakeMenu | null;
  }
  destroy(): void {
    this.destroyed = true;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

/** A fresh Notification class per test, so "supported" and the shown list never leak between tests. */
export function createFakeNotificationClass(): NotificationConstructorLike & { supported: boolean; readonly shown: FakeNotificationInstance[] } {
  const shown: FakeNotificationInstance[] = [];
  class FakeNotification extends FakeEmitter implements NotificationLike {
    static supported = true;
    static readonly shown = shown;
    static isSupported(): boolean {
      return FakeNotification.supported;
    }
    constructor(readonly options: NotificationConstructorOptions) {
      super();
    }
    show(): void {
      shown.push(this);
    }
  }
  return FakeNotification;
}

export type FakeNotificationInstance = NotificationLike & FakeEmitter & { readonly options: NotificationConstructorOptions };

export class FakeApp extends FakeEmitter implements AppLike {
  isPackaged = true;
  gotLock = true;
  sandboxEnabled = false;
  name = 'torsh-depot';
  readonly paths: Record<string, string>;
  quitCalls = 0;
  exitCode: number | null = null;
  private readyResolve: () => void = () => undefined;
  private readonly ready = new Promise<void>((resolve) => {
    this.readyResolve = resolve;
  });

  constructor(appDataDir: string) {
    super();
    this.paths = { appData: appDataDir, userData: path.join(appDataDir, 'torsh-depot') };
  }

  requestSingleInstanceLock(): boolean {
    return this.gotLock;
  }
  enableSandbox(): void {
    this.sandboxEnabled = true;
  }
  whenReady(): Promise<void> {
    return this.ready;
  }
  /** Plays Electron finishing its start-up. */
  becomeReady(): void {
    this.readyResolve();
  }
  getPath(name: 'userData' | 'appData'): string {
    const value = this.paths[name];
    if (value === undefined) throw new Error(`no path ${name}`);
    return value;
  }
  setPath(name: 'userData', value: string): void {
    this.paths[name] = value;
  }
  setName(name: string): void {
    this.name = name;
  }
  /** Like Electron: emits 'before-quit'; quits only if no listener prevented it. */
  quit(): void {
    this.quitCalls += 1;
    const event = new FakePreventable();
    this.emit('before-quit', event);
    if (!event.defaultPrevented) this.emit('will-quit');
  }
  exit(exitCode = 0): void {
    this.exitCode = exitCode;
  }
}

export class FakeDialog {
  readonly errors: Array<{ title: string; content: string }> = [];
  /** What the next folder dialog answers; null means the user cancelled. */
  nextFolder: string | null = null;
  async showOpenDialog(_options: { title: string; properties: Array<'openDirectory' | 'createDirectory'> }): Promise<{ canceled: boolean; filePaths: string[] }> {
    return this.nextFolder === null ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: [this.nextFolder] };
  }
  showErrorBox(title: string, content: string): void {
    this.errors.push({ title, content });
  }
}

export interface FakeElectron extends DesktopElectron {
  readonly app: FakeApp;
  readonly ipcMain: FakeIpcMain;
  readonly session: { readonly defaultSession: FakeSession };
  readonly shell: FakeShell;
  readonly safeStorage: FakeSafeStorage;
  readonly Menu: FakeMenuApi;
  readonly Notification: ReturnType<typeof createFakeNotificationClass>;
  readonly dialog: FakeDialog;
  /** Windows the shell created, in order. */
  readonly windows: FakeBrowserWindow[];
  readonly trays: FakeTray[];
}

/**
 * A whole fake `electron` for startDesktopApp. Each call gets its own BrowserWindow and Tray
 * subclasses, so created instances are tracked per test.
 */
export function createFakeElectron(appDataDir: string): FakeElectron {
  const windows: FakeBrowserWindow[] = [];
  const trays: FakeTray[] = [];
  class TrackedWindow extends FakeBrowserWindow {
    constructor(options: BrowserWindowConstructorOptions) {
      super(options);
      windows.push(this);
    }
  }
  class TrackedTray extends FakeTray {
    constructor(image: string) {
      super(image);
      trays.push(this);
    }
  }
  return {
    app: new FakeApp(appDataDir),
    BrowserWindow: TrackedWindow,
    ipcMain: new FakeIpcMain(),
    session: { defaultSession: new FakeSession() },
    shell: new FakeShell(),
    safeStorage: new FakeSafeStorage(),
    Menu: new FakeMenuApi(),
    Tray: TrackedTray,
    Notification: createFakeNotificationClass(),
    dialog: new FakeDialog(),
    windows,
    trays,
  };
}

/** A logger that keeps lines so tests can check a refusal was logged with its reason. */
export function createRecordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message, error) => lines.push(`error ${message}${error instanceof Error ? `: ${error.message}` : ''}`),
  };
}

/** Finds a menu item by id anywhere in a template. */
export function findMenuItem(template: readonly MenuItemConstructorOptions[], id: string): MenuItemConstructorOptions | undefined {
  for (const item of template) {
    if (item.id === id) return item;
    if (Array.isArray(item.submenu)) {
      const found = findMenuItem(item.submenu as MenuItemConstructorOptions[], id);
      if (found) return found;
    }
  }
  return undefined;
}
