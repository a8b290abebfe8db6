import { create } from 'zustand';
import type { AppNotification } from '../../../shared/domain/health';
import { client } from '../lib/client-instance';
import { useSettingsStore } from './settings-store';

export interface Toast extends AppNotification {
  id: number;
}

interface NotificationsStore {
  toasts: Toast[];
  push(notification: AppNotification): void;
  dismiss(id: number): void;
}

let nextId = 1;

export const useNotificationsStore = create<NotificationsStore>((set, get) => ({
  toasts: [],
  push(notification) {
    const id = nextId;
    nextId += 1;
    set({ toasts: [...get().toasts.slice(-4), { ...notification, id }] });
    setTimeout(() => get().dismiss(id), notification.level === 'error' ? 12_000 : 6_000);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((toast) => toast.id !== id) });
  },
}));

/** Core notifications become toasts, and browser notifications when the user allowed them. */
export function startNotificationUpdates(): () => void {
  if (!client) return () => undefined;
  return client.onEvent('notification', (notification) => {
    useNotificationsStore.getState().push(notification);
    const enabled = useSettingsStore.getState().settings?.notifications ?? true;
    // The desktop shell shows native notifications itself; the browser needs the Notification API.
    if (enabled && client?.transport.kind === 'websocket' && 'Notification' in window && Notification.permission === 'granted' && document.hidden) {
      new Notification(notification.title, { body: notification.body });
    }
  });
}
