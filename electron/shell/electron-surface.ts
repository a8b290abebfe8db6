import type {
  BrowserWindowConstructorOptions,
  HeadersReceivedResponse,
  MenuItemConstructorOptions,
  NotificationConstructorOptions,
  WindowOpenHandlerResponse,
} from 'electron';

/*
 * The parts of Electron's main-process API the shell uses, narrowed to what it calls. The real
 * modules satisfy these types (electron/main.ts passes them and tsc checks it); unit tests pass
 * plain fakes. Only types come from 'electron' here: nothing in electron/shell loads it at runtime.
 */

/** Something whose default action can be cancelled (Electron's `Event`). */
export interface PreventableEvent {
  preventDefault(): void;
}

/** A frame as IPC and navigation events report it (Electron's `WebFrameMain`). */
export interface FrameLike {
  readonly url: string;
  readonly parent: FrameLike | null;
  readonly processId: number;
  readonly routingId: number;
}

export interface NavigationEventLike extends PreventableEvent {
  readonly url: string;
}

export interface WindowOpenDetailsLike {
  readonly url: string;
}

export interface WebContentsLike {
  readonly id: number;
  readonly mainFrame: FrameLike;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  setWindowOpenHandler(handler: (details: WindowOpenDetailsLike) => WindowOpenHandlerResponse): void;
  on(event: 'will-navigate', listener: (event: NavigationEventLike) => void): unknown;
  on(event: 'will-redirect', listener: (event: NavigationEventLike) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike;
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
}

export type BrowserWindowConstructorLike = new (options: BrowserWindowConstructorOptions) => BrowserWindowLike;

/** What an `ipcMain.handle` listener receives (Electron's `IpcMainInvokeEvent`). */
export interface InvokeEventLike {
  readonly sender: { readonly id: number };
  readonly senderFrame: FrameLike | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface HeadersReceivedDetailsLike {
  readonly url: string;
  readonly responseHeaders?: Record<string, string[]>;
}

export type HeadersReceivedCallback = (response: HeadersReceivedResponse) => void;

export interface SessionLike {
  readonly webRequest: {
    onHeadersReceived(listener: (details: HeadersReceivedDetailsLike, callback: HeadersReceivedCallback) => void): void;
  };
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
}

export interface ShellLike {
  openExternal(url: string): Promise<void>;
}

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: which keyring backs the encryption ('basic_text' means a hard-coded key). */
  getSelectedStorageBackend?(): string;
}

/** An opaque built menu: the shell only hands it back to Electron. */
export type MenuHandle = object;

export interface MenuApiLike {
  buildFromTemplate(template: MenuItemConstructorOptions[]): MenuHandle;
  setApplicationMenu(menu: MenuHandle | null): void;
}

export interface TrayLike {
  setToolTip(toolTip: string): void;
  setContextMenu(menu: MenuHandle | null): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
  isDestroyed(): boolean;
}

export type TrayConstructorLike = new (image: string) => TrayLike;

export interface NotificationLike {
  show(): void;
  on(event: 'click', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

export interface NotificationConstructorLike {
  new (options: NotificationConstructorOptions): NotificationLike;
  isSupported(): boolean;
}

export interface DialogLike {
  showErrorBox(title: string, content: string): void;
  showOpenDialog(options: { title: string; properties: Array<'openDirectory' | 'createDirectory'> }): Promise<{ canceled: boolean; filePaths: string[] }>;
}

export interface AppLike {
  readonly isPackaged: boolean;
  requestSingleInstanceLock(): boolean;
  enableSandbox(): void;
  whenReady(): Promise<void>;
  getPath(name: 'userData' | 'appData'): string;
  setPath(name: 'userData', path: string): void;
  setName(name: string): void;
  quit(): void;
  exit(exitCode?: number): void;
  on(event: 'second-instance', listener: () => void): unknown;
  on(event: 'before-quit', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  on(event: 'activate', listener: () => void): unknown;
  on(event: 'web-contents-created', listener: (event: unknown, contents: WebContentsLike) => void): unknown;
}

/** Every Electron main-process module the desktop app needs, handed over by electron/main.ts. */
export interface DesktopElectron {
  readonly app: AppLike;
  readonly BrowserWindow: BrowserWindowConstructorLike;
  readonly ipcMain: IpcMainLike;
  readonly session: { readonly defaultSession: SessionLike };
  readonly shell: ShellLike;
  readonly safeStorage: SafeStorageLike;
  readonly Menu: MenuApiLike;
  readonly Tray: TrayConstructorLike;
  readonly Notification: NotificationConstructorLike;
  readonly dialog: DialogLike;
}
