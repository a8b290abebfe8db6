import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, safeStorage, session, shell, Tray } from 'electron';
import { startDesktopApp } from './shell/desktop-app';
import { openElectronStoreSettingsBackend } from './shell/electron-store-settings-backend';

// Bundled to dist/electron/main.cjs: the preload sits next to it, the renderer in dist/renderer.
// Icons ship as extra resources when packaged (electron-builder.yml) and live in build/ otherwise.
const distDir = path.resolve(__dirname, '..');

startDesktopApp(
  { app, BrowserWindow, ipcMain, session, shell, safeStorage, Menu, Tray, Notification, dialog },
  {
    rendererIndexFile: path.join(distDir, 'renderer', 'index.html'),
    preloadFile: path.join(__dirname, 'preload.cjs'),
    iconDir: app.isPackaged ? path.join(process.resourcesPath, 'icons') : path.join(app.getAppPath(), 'build'),
    loadSettingsBackend: () => openElectronStoreSettingsBackend(),
  },
).catch((error: unknown) => {
  console.error('Torsh Depot failed to start:', error);
  app.exit(1);
});
