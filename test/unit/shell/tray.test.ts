import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { EventBus } from '../../../electron/services/events/event-bus';
import { createHealthTray, type TrayTimers } from '../../../electron/shell/tray';
import type { Health } from '../../../shared/domain/health';
import { createRecordingLogger, FakeMenuApi, FakeTray, findMenuItem } from './fake-electron';

const healthy: Health = {
  status: 'ok',
  version: '0.1.0',
  shell: 'desktop',
  uptimeSeconds: 5,
  dataDir: '/data',
  databaseBytes: 4096,
  runningJobs: 0,
  problems: [],
};

/** Timers a test fires by hand. */
class ManualTimers implements TrayTimers {
  intervals = new Map<number, { callback: () => void; ms: number }>();
  timeouts = new Map<number, () => void>();
  private next = 1;
  setInterval(callback: () => void, ms: number): number {
    const id = this.next++;
    this.intervals.set(id, { callback, ms });
    return id;
  }
  clearInterval(handle: unknown): void {
    this.intervals.delete(handle as number);
  }
  setTimeout(callback: () => void): number {
    const id = this.next++;
    this.timeouts.set(id, callback);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timeouts.delete(handle as number);
  }
  tickIntervals(): void {
    for (const { callback } of this.intervals.values()) callback();
  }
  runTimeouts(): void {
    const pending = [...this.timeouts.values()];
    this.timeouts.clear();
    for (const callback of pending) callback();
  }
}

function setUp(initial: Health = healthy) {
  let health = initial;
  const current = vi.fn(() => health);
  const events = new EventBus();
  const Menu = new FakeMenuApi();
  const timers = new ManualTimers();
  const showWindow = vi.fn();
  const quit = vi.fn();
  const trays: FakeTray[] = [];
  class TrackedTray extends FakeTray {
    constructor(image: string) {
      super(image);
      trays.push(this);
    }
  }
  const handle = createHealthTray({ Tray: TrackedTray, Menu, iconFile: '/icons/tray-icon.png', health: { current }, events, showWindow, quit, logger: createRecordingLogger(), timers });
  const tray = trays[0];
  if (!tray) throw new Error('no tray created');
  const menu = (): MenuItemConstructorOptions[] => tray.contextMenu?.template ?? [];
  return { handle, tray, menu, current, events, timers, showWindow, quit, setHealth: (next: Health) => (health = next) };
}

describe('createHealthTray', () => {
  it('shows status, running jobs, Open and Quit', () => {
    const { tray, menu, showWindow, quit } = setUp();
    expect(tray.image).toBe('/icons/tray-icon.png');
    expect(menu().map((item) => item.label ?? item.type)).toEqual(['Torsh Depot: healthy', 'Running jobs: 0', 'separator', 'Open Torsh Depot', 'Quit']);
    expect(tray.toolTip).toContain('healthy');
    (findMenuItem(menu(), 'open')?.click as () => void)();
    (findMenuItem(menu(), 'quit')?.click as () => void)();
    expect(showWindow).toHaveBeenCalledTimes(1);
    expect(quit).toHaveBeenCalledTimes(1);
    tray.emit('click');
    expect(showWindow).toHaveBeenCalledTimes(2);
  });

  it('refreshes on health.changed with the event payload', () => {
    const { menu, events } = setUp();
    events.emit('health.changed', { ...healthy, status: 'degraded', problems: ['Disk almost full', 'Mirror eu-1 unreachable'], runningJobs: 2 });
    expect(menu().map((item) => item.label ?? item.type)).toEqual([
      'Torsh Depot: degraded (2 problems)',
      '  Disk almost full',
      '  Mirror eu-1 unreachable',
      'Running jobs: 2',
      'separator',
      'Open Torsh Depot',
      'Quit',
    ]);
  });

  it('refreshes every 30 s from core.health.current()', () => {
    const { menu, timers, current, setHealth } = setUp();
    expect([...timers.intervals.values()].map((timer) => timer.ms)).toEqual([30_000]);
    setHealth({ ...healthy, runningJobs: 3 });
    timers.tickIntervals();
    expect(findMenuItem(menu(), 'running-jobs')?.label).toBe('Running jobs: 3');
    expect(current).toHaveBeenCalledTimes(2);
  });

  it('coalesces job updates into one refresh', () => {
    const { menu, events, timers, current, setHealth } = setUp();
    setHealth({ ...healthy, runningJobs: 1 });
    const job = { id: 'j', kind: 'data-folder-check', title: 't', status: 'running', progress: 0.5, message: null, createdAt: '', startedAt: null, finishedAt: null, result: null, error: null } as const;
    for (let i = 0; i < 10; i++) events.emit('jobs.updated', job);
    expect(timers.timeouts.size).toBe(1);
    timers.runTimeouts();
    expect(current).toHaveBeenCalledTimes(2);
    expect(findMenuItem(menu(), 'running-jobs')?.label).toBe('Running jobs: 1');
  });

  it('stops refreshing and removes the icon on dispose', () => {
    const { handle, tray, events, timers, current } = setUp();
    handle.dispose();
    expect(tray.destroyed).toBe(true);
    expect(timers.intervals.size).toBe(0);
    events.emit('health.changed', healthy);
    handle.refresh();
    expect(current).toHaveBeenCalledTimes(1);
  });
});
