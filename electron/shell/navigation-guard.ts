import type { Logger } from '../services/logger';
import { isAppIndexUrl } from './app-urls';
import type { NavigationEventLike, WebContentsLike } from './electron-surface';
import type { OpenExternal } from './open-external';

export interface NavigationGuardOptions {
  appIndexUrl: string;
  logger: Logger;
  /** Links the page tries to open in a new window go here (it refuses anything but https). */
  openExternal?: OpenExternal;
}

/**
 * Keeps a webContents on the app's own page: no new windows, no navigation or redirect elsewhere,
 * no <webview>. Installed on every webContents Electron creates, before it loads anything.
 */
export function installNavigationGuard(contents: WebContentsLike, options: NavigationGuardOptions): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (options.openExternal) void options.openExternal(url);
    else options.logger.warn(`blocked window.open of ${url.slice(0, 200)}`);
    return { action: 'deny' };
  });

  const keepOnApp = (kind: string) => (event: NavigationEventLike) => {
    if (isAppIndexUrl(event.url, options.appIndexUrl)) return;
    event.preventDefault();
    options.logger.warn(`blocked ${kind} to ${event.url.slice(0, 200)}`);
  };
  contents.on('will-navigate', keepOnApp('navigation'));
  contents.on('will-redirect', keepOnApp('redirect'));

  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    options.logger.warn('blocked a <webview>');
  });
}
