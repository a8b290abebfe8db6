import type { MenuItemConstructorOptions } from 'electron';
import type { Health } from '../../shared/domain/health';
import type { EventBus } from '../services/events/event-bus';
import type { HealthService } from '../services/health/health-service';
import type { Logger } from '../services/logger';
import type { MenuApiLike, TrayConstructorLike, TrayLike } from './electron-surface';

/** Timers as a parameter so tests can drive the refresh without waiting. */
export interface TrayTimers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: TrayTimers = {
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface HealthTrayOptions {
  Tray: TrayConstructorLike;
  Menu: Pick<MenuApiLike, 'buildFromTemplate'>;
  iconFile: string;
  health: Pick<HealthService, 'current'>;
  events: Pick<EventBus, 'subscribe'>;
  showWindow: () => void;
  quit: () => void;
  logger: Logger;
  timers?: TrayTimers;
  refreshMs?: number;
}

export interface HealthTray {
  readonly tray: TrayLike;
  refresh(health?: Health): void;
  dispose(): void;
}

export function trayStatusLine(health: Health): string {
  if (health.status === 'ok') return 'Torsh Depot: healthy';
  const count = health.problems.length;
  return `Torsh Depot: degraded (${count} problem${count === 1 ? '' : 's'})`;
}

/** The tray's context menu: status, first problems, running jobs, then the two actions. */
export function buildTrayMenuTemplate(health: Health, actions: { showWindow: () => void; quit: () => void }): MenuItemConstructorOptions[] {
  const problems = health.problems.slice(0, 3).map((problem): MenuItemConstructorOptions => ({ label: `  ${truncate(problem, 80)}`, enabled: false }));
  return [
    { id: 'status', label: trayStatusLine(health), enabled: false },
    ...problems,
    { id: 'running-jobs', label: `Running jobs: ${health.runningJobs}`, enabled: false },
    { type: 'separator' },
    { id: 'open', label: 'Open Torsh Depot', click: () => actions.showWindow() },
    { id: 'quit', label: 'Quit', click: () => actions.quit() },
  ];
}

/**
 * A tray icon whose menu shows host health: rebuilt on `health.changed`, shortly after job updates
 * (coalesced: progress events can be many per second), and every 30 s so uptime-style drift shows.
 */
export function createHealthTray(options: HealthTrayOptions): HealthTray {
  const timers = options.timers ?? systemTimers;
  const tray = new options.Tray(options.iconFile);
  const actions = { showWindow: options.showWindow, quit: options.quit };
  let disposed = false;
  let pendingJobRefresh: unknown = null;

  const refresh = (health?: Health): void => {
    if (disposed || tray.isDestroyed()) return;
    try {
      const current = health ?? options.health.current();
      tray.setToolTip(`${trayStatusLine(current)} · ${current.runningJobs} running`);
      tray.setContextMenu(options.Menu.buildFromTemplate(buildTrayMenuTemplate(current, actions)));
    } catch (error) {
      options.logger.error('could not refresh the tray menu', error);
    }
  };

  tray.on('click', () => options.showWindow());
  const interval = timers.setInterval(() => refresh(), options.refreshMs ?? 30_000);
  const unsubscribe = options.events.subscribe((event, payload) => {
    if (event === 'health.changed') refresh(payload as Health);
    else if (event === 'jobs.updated' && pendingJobRefresh === null) {
      pendingJobRefresh = timers.setTimeout(() => {
        pendingJobRefresh = null;
        refresh();
      }, 1_000);
    }
  });
  refresh();

  return {
    tray,
    refresh,
    dispose() {
      if (disposed) return;
      disposed = true;
      unsubscribe();
      timers.clearInterval(interval);
      if (pendingJobRefresh !== null) timers.clearTimeout(pendingJobRefresh);
      if (!tray.isDestroyed()) tray.destroy();
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
