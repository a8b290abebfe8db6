import type { Logger } from '../services/logger';
import type { SessionLike } from './electron-surface';

/**
 * The renderer needs no browser permission (camera, geolocation, notifications…): notifications
 * come from the main process. Deny every request and check, and log requests so a surprise shows.
 */
export function installPermissionPolicy(session: SessionLike, logger: Logger): void {
  session.setPermissionRequestHandler((_webContents, permission, callback) => {
    logger.warn(`denied a renderer permission request: ${permission}`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
}
