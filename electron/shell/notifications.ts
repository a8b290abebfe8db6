import type { AppNotification } from '../../shared/domain/health';
import type { Settings } from '../../shared/domain/settings';
import type { EventBus } from '../services/events/event-bus';
import type { Logger } from '../services/logger';
import type { NotificationConstructorLike, NotificationLike } from './electron-surface';

export interface NotificationForwarderOptions {
  Notification: NotificationConstructorLike;
  events: Pick<EventBus, 'subscribe'>;
  settings: { get(): Pick<Settings, 'notifications'> };
  logger: Logger;
  /** Clicking a notification brings the window forward. */
  onClick?: () => void;
  iconFile?: string;
}

/**
 * Shows the core's `notification` events as OS notifications, when the OS supports them and the
 * user has not turned them off (read at each event, so the setting applies at once).
 * Returns the unsubscribe.
 */
export function forwardNotifications(options: NotificationForwarderOptions): () => void {
  // Electron drops click handlers of notifications that get garbage-collected: keep them until closed.
  const visible = new Set<NotificationLike>();

  const show = (notification: AppNotification): void => {
    if (!options.settings.get().notifications) return;
    if (!options.Notification.isSupported()) return;
    try {
      const shown = new options.Notification({
        title: notification.title,
        body: notification.body,
        urgency: notification.level === 'error' ? 'critical' : 'normal',
        ...(options.iconFile === undefined ? {} : { icon: options.iconFile }),
      });
      visible.add(shown);
      shown.on('close', () => visible.delete(shown));
      shown.on('click', () => {
        visible.delete(shown);
        options.onClick?.();
      });
      shown.show();
    } catch (error) {
      options.logger.error('could not show a notification', error);
    }
  };

  return options.events.subscribe((event, payload) => {
    if (event === 'notification') show(payload as AppNotification);
  });
}
