import path from 'node:path';
import { createCore, type Core } from '../services/composition-root';
import { defaultBlobGcGraceSeconds } from '../../shared/domain/storage';
import { createConsoleLogger, type Logger } from '../services/logger';
import type { SettingsBackend } from '../services/settings/settings-backend';
import { buildAppMenuTemplate } from './app-menu';
import { appUrlsFor } from './app-urls';
import { installContentSecurityPolicy } from './content-security-policy';
import type { BrowserWindowLike, DesktopElectron } from './electron-surface';
import { registerIpcBridge, type IpcBridge } from './ipc-bridge';
import { installNavigationGuard } from './navigation-guard';
import { forwardNotifications } from './notifications';
import { createOpenExternal } from './open-external';
import { installPermissionPolicy } from './permission-policy';
import { createDesktopSecretStore } from './safe-storage-cipher';
import { createHealthTray, type HealthTray, type TrayTimers } from './tray';
import { createWindowOptions } from './window-options';
import { createEmbeddedRegistry } from './embedded-registry';

export interface DesktopAppOptions {
  /** dist/renderer/index.html: the only page the window shows. */
  rendererIndexFile: string;
  /** dist/electron/preload.cjs. */
  preloadFile: string;
  /** Folder holding icon.png, tray-icon.png and tray-iconTemplate.png. */
  iconDir: string;
  /** electron-store in the app; tests pass a memory backend. */
  loadSettingsBackend: () => Promise<SettingsBackend>;
  platform?: NodeJS.Platform;
  logger?: Logger;
  appName?: string;
  documentationUrl?: string;
  /** Hosts links may open in the browser; unset allows any https host. */
  externalHosts?: readonly string[];
  /** How long quitting waits for running jobs to stop before leaving anyway. */
  closeTimeoutMs?: number;
  trayTimers?: TrayTimers;
}

export interface DesktopApp {
  readonly core: Core;
  readonly ipc: IpcBridge;
  readonly tray: HealthTray | null;
  getWindow(): BrowserWindowLike | null;
  showWindow(): void;
  /** Settles once quitting has closed the core (or given up waiting) and asked Electron to quit. */
  whenShutDown(): Promise<void>;
}

/**
 * The desktop shell: one instance, one sandboxed window over the same core every shell uses, the
 * contract over IPC, CSP, navigation guards, tray, notifications and menu. Returns null when it
 * does not start (another instance holds the lock, or start-up failed and the user was told).
 */
export async function startDesktopApp(electron: DesktopElectron, options: DesktopAppOptions): Promise<DesktopApp | null> {
  const { app } = electron;
  const platform = options.platform ?? process.platform;
  const logger = options.logger ?? createConsoleLogger('torsh-depot-desktop');
  const appName = options.appName ?? 'Torsh Depot';

  // Development runs are named after package.json ('torsh-depot'), packaged ones after productName:
  // pin the name so both use the same data folder (and the same single-instance lock).
  app.setName(appName);
  app.setPath('userData', path.join(app.getPath('appData'), appName));
  if (!app.requestSingleInstanceLock()) {
    logger.info('another Torsh Depot is already running; it takes over');
    app.quit();
    return null;
  }
  // Every renderer sandboxed, whatever options a window is created with.
  app.enableSandbox();

  const urls = appUrlsFor(options.rendererIndexFile);
  const isProduction = app.isPackaged;
  const openExternal = createOpenExternal({ shell: electron.shell, logger, ...(options.externalHosts ? { allowedHosts: options.externalHosts } : {}) });

  // Registered before any webContents exists, so no page escapes the guard.
  app.on('web-contents-created', (_event, contents) => installNavigationGuard(contents, { appIndexUrl: urls.indexUrl, logger, openExternal }));

  let window: BrowserWindowLike | null = null;
  let core: Core | null = null;
  let quitting = false;

  const createMainWindow = (): BrowserWindowLike => {
    const iconFile = platform === 'darwin' ? undefined : path.join(options.iconDir, 'icon.png');
    const created = new electron.BrowserWindow(createWindowOptions({ preloadFile: options.preloadFile, isProduction, ...(iconFile ? { iconFile } : {}) }));
    created.once('ready-to-show', () => created.show());
    created.on('closed', () => {
      if (window === created) window = null;
    });
    // loadURL with our own file URL, so the URL the guards compare against is exactly this one.
    created.loadURL(urls.indexUrl).catch((error: unknown) => logger.error(`could not load ${urls.indexUrl}`, error));
    return created;
  };

  const showWindow = (): void => {
    if (core === null || quitting) return;
    if (window === null || window.isDestroyed()) {
      window = createMainWindow();
      return;
    }
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };

  app.on('second-instance', () => showWindow());
  app.on('activate', () => showWindow());
  // macOS apps stay alive without windows; elsewhere closing the window ends the app.
  app.on('window-all-closed', () => {
    if (platform !== 'darwin') app.quit();
  });

  await app.whenReady();

  let started: Core;
  try {
    const settingsBackend = await options.loadSettingsBackend();
    const dataDir = path.join(app.getPath('userData'), 'data');
    const { store: secretStore } = createDesktopSecretStore({ file: path.join(dataDir, 'secrets.json'), safeStorage: electron.safeStorage, logger, platform });
    const dialogs = {
      async chooseFolder(title: string): Promise<string | null> {
        const answer = await electron.dialog.showOpenDialog({ title, properties: ['openDirectory', 'createDirectory'] });
        return answer.canceled ? null : (answer.filePaths[0] ?? null);
      },
    };
    started = createCore({ dataDir, shell: 'desktop', settingsBackend, secretStore, logger, dialogs });
  } catch (error) {
    // A failed migration or unreadable secrets must stop start-up visibly, not leave a blank window.
    logger.error('start-up failed', error);
    electron.dialog.showErrorBox('Torsh Depot could not start', error instanceof Error ? error.message : String(error));
    app.exit(1);
    return null;
  }
  core = started;
  // What a crash or a lost publish race left behind in the blob store, older than the grace period.
  started.startBlobGc({ dry_run: false, grace_seconds: defaultBlobGcGraceSeconds }).done.catch((error: unknown) => logger.warn(`garbage collection failed: ${(error as Error).message}`));
  core.mirrors.startHealthChecks();
  core.cdn.startHealthChecks();
  core.startSchedules();
  core.mirrors.startSyncOnPublish();

  const defaultSession = electron.session.defaultSession;
  installPermissionPolicy(defaultSession, logger);
  installContentSecurityPolicy(defaultSession, urls.rootUrl);

  const ipc = registerIpcBridge({
    ipcMain: electron.ipcMain,
    getWindow: () => window,
    appIndexUrl: urls.indexUrl,
    router: started.router,
    events: started.events,
    logger,
  });

  electron.Menu.setApplicationMenu(
    electron.Menu.buildFromTemplate(
      buildAppMenuTemplate({ platform, isProduction, openExternal, ...(options.documentationUrl ? { documentationUrl: options.documentationUrl } : {}) }),
    ),
  );

  let tray: HealthTray | null = null;
  try {
    tray = createHealthTray({
      Tray: electron.Tray,
      Menu: electron.Menu,
      iconFile: path.join(options.iconDir, platform === 'darwin' ? 'tray-iconTemplate.png' : 'tray-icon.png'),
      health: started.health,
      events: started.events,
      showWindow,
      quit: () => app.quit(),
      logger,
      ...(options.trayTimers ? { timers: options.trayTimers } : {}),
    });
  } catch (error) {
    // Some Linux desktops have no tray: the app works without it.
    logger.warn(`no tray icon: ${error instanceof Error ? error.message : String(error)}`);
  }

  const stopNotifications = forwardNotifications({
    Notification: electron.Notification,
    events: started.events,
    settings: started.settings,
    logger,
    onClick: showWindow,
    ...(platform === 'darwin' ? {} : { iconFile: path.join(options.iconDir, 'icon.png') }),
  });

  const embeddedRegistry = createEmbeddedRegistry(started, logger);
  void embeddedRegistry.sync();
  const stopRegistrySync = started.settings.onChange(() => void embeddedRegistry.sync());

  let resolveShutDown: () => void = () => undefined;
  const shutDown = new Promise<void>((resolve) => {
    resolveShutDown = resolve;
  });
  let readyToQuit = false;

  // Electron does not wait for promises in 'before-quit': hold the quit, close the core once, quit again.
  app.on('before-quit', (event) => {
    if (readyToQuit) return;
    event.preventDefault();
    if (quitting) return;
    quitting = true;
    void (async () => {
      tray?.dispose();
      stopNotifications();
      ipc.dispose();
      stopRegistrySync();
      await embeddedRegistry.close();
      await closeCore(started, options.closeTimeoutMs ?? 15_000, logger);
      readyToQuit = true;
      resolveShutDown();
      app.quit();
    })();
  });

  window = createMainWindow();

  return {
    core: started,
    ipc,
    tray,
    getWindow: () => window,
    showWindow,
    whenShutDown: () => shutDown,
  };
}

async function closeCore(core: Core, timeoutMs: number, logger: Logger): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([core.close().then(() => 'closed' as const), timedOut]);
    // SQLite's WAL keeps the database consistent even if the process leaves mid-job.
    if (outcome === 'timeout') logger.warn(`jobs did not stop within ${timeoutMs} ms; quitting anyway`);
  } catch (error) {
    logger.error('closing the core failed', error);
  } finally {
    clearTimeout(timer);
  }
}
