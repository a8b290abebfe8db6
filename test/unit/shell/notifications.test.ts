import { describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../../electron/services/events/event-bus';
import { forwardNotifications } from '../../../electron/shell/notifications';
import { createFakeNotificationClass, createRecordingLogger } from './fake-electron';

function setUp(enabled = true) {
  const Notification = createFakeNotificationClass();
  const events = new EventBus();
  const settings = { notifications: enabled };
  const onClick = vi.fn();
  const stop = forwardNotifications({ Notification, events, settings: { get: () => settings }, logger: createRecordingLogger(), onClick });
  return { Notification, events, settings, onClick, stop };
}

describe('forwardNotifications', () => {
  it('shows an OS notification for a core notification event', () => {
    const { Notification, events, onClick } = setUp();
    events.emit('notification', { title: 'Data folder check finished', body: 'Done.', level: 'success' });
    events.emit('notification', { title: 'Upload failed', body: 'Disk full', level: 'error' });
    expect(Notification.shown.map((shown) => shown.options)).toEqual([
      { title: 'Data folder check finished', body: 'Done.', urgency: 'normal' },
      { title: 'Upload failed', body: 'Disk full', urgency: 'critical' },
    ]);
    Notification.shown[0]?.emit('click');
    expect(onClick).toHaveBeenCalledTimes(1);
  });

  it('is silent when the notifications setting is off, and follows the setting live', () => {
    const { Notification, events, settings } = setUp(false);
    events.emit('notification', { title: 'x', body: 'y', level: 'info' });
    expect(Notification.shown).toEqual([]);
    settings.notifications = true;
    events.emit('notification', { title: 'x', body: 'y', level: 'info' });
    expect(Notification.shown).toHaveLength(1);
  });

  it('is silent when the OS does not support notifications', () => {
    const { Notification, events } = setUp();
    Notification.supported = false;
    events.emit('notification', { title: 'x', body: 'y', level: 'info' });
    expect(Notification.shown).toEqual([]);
  });

  it('ignores other events and stops when unsubscribed', () => {
    const { Notification, events, stop } = setUp();
    events.emit('health.changed', { status: 'ok', version: '1', shell: 'desktop', uptimeSeconds: 1, dataDir: '/', databaseBytes: 0, runningJobs: 0, problems: [] });
    stop();
    events.emit('notification', { title: 'x', body: 'y', level: 'info' });
    expect(Notification.shown).toEqual([]);
  });
});
