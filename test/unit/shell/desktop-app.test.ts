import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemorySettingsBackend } from '../../../electron/services/settings/settings-backend';
import { appUrlsFor } from '../../../electron/shell/app-urls';
import { contentSecurityPolicy } from '../../../electron/shell/content-security-policy';
import { startDesktopApp, type DesktopApp, type DesktopAppOptions } from '../../../electron/shell/desktop-app';
import { requestChannelNames } from '../../../shared/contract/channels';
import { ipcChannelFor, type ResponseResult } from '../../../shared/contract/wire';
import { makeTempDir } from '../../support/temp-dir';
import { createFakeElectron, createRecordingLogger, FakeWebContents, type FakeElectron } from './fake-electron';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const rendererIndexFile = '/opt/torsh-depot/dist/renderer/index.html';
const urls = appUrlsFor(rendererIndexFile);

async function start(overrides: Partial<DesktopAppOptions> = {}, configure: (electron: FakeElectron) => void = () => undefined) {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  const electron = createFakeElectron(temp.dir);
  configure(electron);
  electron.app.becomeReady();
  const logger = createRecordingLogger();
  const app = await startDesktopApp(electron, {
    rendererIndexFile,
    preloadFile: '/opt/torsh-depot/dist/electron/preload.cjs',
    iconDir: '/opt/torsh-depot/build',
    loadSettingsBackend: async () => new MemorySettingsBackend(),
    platform: 'linux',
    logger,
    ...overrides,
  });
  if (app) {
    cleanups.push(async () => {
      electron.app.quit();
      await app.whenShutDown();
    });
  }
  return { electron, app, logger, appDataDir: temp.dir };
}

function started(app: DesktopApp | null): DesktopApp {
  if (app === null) throw new Error('the app did not start');
  return app;
}

describe('startDesktopApp', () => {
  it('starts the core in userData/data and opens one secure window on the app page', async () => {
    const { electron, app, appDataDir } = await start();
    const desktop = started(app);
    expect(electron.app.name).toBe('Torsh Depot');
    expect(electron.app.getPath('userData')).toBe(path.join(appDataDir, 'Torsh Depot'));
    expect(desktop.core.dataDir).toBe(path.join(appDataDir, 'Torsh Depot', 'data'));
    expect(electron.app.sandboxEnabled).toBe(true);

    expect(electron.windows).toHaveLength(1);
    const window = electron.windows[0]!;
    expect(window.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      devTools: false,
      preload: '/opt/torsh-depot/dist/electron/preload.cjs',
    });
    expect(window.loadedUrls).toEqual([urls.indexUrl]);
    expect(window.visible).toBe(false);
    window.emit('ready-to-show');
    expect(window.visible).toBe(true);
  });

  it('wires IPC for exactly the contract channels, answering the app window from the real core', async () => {
    const { electron } = await start();
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual(requestChannelNames.map((channel) => ipcChannelFor(channel)).sort());
    const window = electron.windows[0]!;
    const health = (await electron.ipcMain.invoke(ipcChannelFor('app.health'), window.webContents.invokeEvent(), {})) as ResponseResult;
    expect(health).toMatchObject({ ok: true, result: { status: 'ok', shell: 'desktop' } });

    const stranger = new FakeWebContents(urls.indexUrl);
    expect(await electron.ipcMain.invoke(ipcChannelFor('app.health'), stranger.invokeEvent(), {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('installs CSP, permission denial, the navigation guard, the menu and the tray', async () => {
    const { electron } = await start();
    const session = electron.session.defaultSession;
    expect(session.receiveHeaders({ url: urls.indexUrl }).responseHeaders?.['Content-Security-Policy']).toEqual([contentSecurityPolicy]);
    expect(session.permissionCheckHandler?.({}, 'geolocation')).toBe(false);

    // Every webContents Electron creates gets the guard.
    const contents = new FakeWebContents(urls.indexUrl);
    electron.app.emit('web-contents-created', {}, contents);
    expect(contents.openWindow('https://example.com/')).toEqual({ action: 'deny' });
    expect(contents.navigate('https://evil.example/')).toBe(false);
    await vi.waitFor(() => expect(electron.shell.opened).toEqual(['https://example.com/']));

    expect((electron.Menu.applicationMenu?.template ?? []).map((item) => item.label)).toEqual(['File', 'Edit', 'View', 'Window', 'Help']);
    expect(electron.trays).toHaveLength(1);
    expect(electron.trays[0]?.image).toBe(path.join('/opt/torsh-depot/build', 'tray-icon.png'));
    expect(electron.trays[0]?.contextMenu?.template[0]?.label).toBe('Torsh Depot: healthy');
  });

  it('uses the template tray icon and keeps running without windows on macOS', async () => {
    const { electron } = await start({ platform: 'darwin' });
    expect(electron.trays[0]?.image).toBe(path.join('/opt/torsh-depot/build', 'tray-iconTemplate.png'));
    electron.windows[0]!.close();
    electron.app.emit('window-all-closed');
    expect(electron.app.quitCalls).toBe(0);
    electron.app.emit('activate');
    expect(electron.windows).toHaveLength(2);
    expect(electron.windows[1]!.loadedUrls).toEqual([urls.indexUrl]);
  });

  it('quits when the last window closes elsewhere', async () => {
    const { electron, app } = await start();
    const closeSpy = vi.spyOn(started(app).core, 'close');
    electron.windows[0]!.close();
    electron.app.emit('window-all-closed');
    await started(app).whenShutDown();
    expect(closeSpy).toHaveBeenCalledTimes(1);
  });

  it('shows notifications from the core, unless the setting is off', async () => {
    const { electron, app } = await start();
    const desktop = started(app);
    desktop.core.events.emit('notification', { title: 'Check finished', body: 'Done.', level: 'success' });
    expect(electron.Notification.shown.map((shown) => shown.options.title)).toEqual(['Check finished']);

    const window = electron.windows[0]!;
    await electron.ipcMain.invoke(ipcChannelFor('settings.update'), window.webContents.invokeEvent(), { notifications: false });
    desktop.core.events.emit('notification', { title: 'Quiet', body: '…', level: 'info' });
    expect(electron.Notification.shown).toHaveLength(1);
  });

  it('focuses the existing window when a second instance starts', async () => {
    const { electron } = await start();
    const window = electron.windows[0]!;
    window.minimized = true;
    electron.app.emit('second-instance');
    expect(window.minimized).toBe(false);
    expect(window.visible).toBe(true);
    expect(window.focused).toBe(1);
    expect(electron.windows).toHaveLength(1);
  });

  it('on quit closes the core once, then quits for real', async () => {
    const { electron, app } = await start();
    const desktop = started(app);
    const closeSpy = vi.spyOn(desktop.core, 'close');
    const willQuit = vi.fn();
    electron.app.on('will-quit', willQuit);

    electron.app.quit();
    electron.app.quit();
    expect(willQuit).not.toHaveBeenCalled();
    await desktop.whenShutDown();
    expect(closeSpy).toHaveBeenCalledTimes(1);
    expect(willQuit).toHaveBeenCalledTimes(1);
    expect(electron.app.quitCalls).toBe(3);
    // Nothing is left listening: IPC handlers gone, tray removed.
    expect(electron.ipcMain.handlers.size).toBe(0);
    expect(electron.trays[0]?.destroyed).toBe(true);
    expect(() => desktop.core.db.prepare('select 1').get()).toThrow();
  });

  it('hands over to the running instance when the single-instance lock is taken', async () => {
    const { electron, app } = await start({}, (fake) => {
      fake.app.gotLock = false;
    });
    expect(app).toBeNull();
    expect(electron.app.quitCalls).toBe(1);
    expect(electron.windows).toEqual([]);
    expect(electron.ipcMain.handlers.size).toBe(0);
  });

  it('tells the user and exits when start-up fails', async () => {
    const { electron, app } = await start({
      loadSettingsBackend: async () => {
        throw new Error('settings.json is damaged');
      },
    });
    expect(app).toBeNull();
    expect(electron.dialog.errors).toEqual([{ title: 'Torsh Depot could not start', content: 'settings.json is damaged' }]);
    expect(electron.app.exitCode).toBe(1);
    expect(electron.windows).toEqual([]);
  });

  it('seals secrets with safeStorage when available', async () => {
    const { electron, app } = await start();
    await started(app).core.secrets.set('token', 'plain-secret');
    expect(electron.safeStorage.isEncryptionAvailable()).toBe(true);
    const onDisk = readFileSync(path.join(started(app).core.dataDir, 'secrets.json'), 'utf8');
    expect(onDisk).not.toContain('plain-secret');
    expect(JSON.parse(onDisk)).toMatchObject({ encrypted: true });
  });
});
