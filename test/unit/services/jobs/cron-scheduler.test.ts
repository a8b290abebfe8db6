import { describe, expect, it } from 'vitest';
import { CronScheduler, parseCron, type ScheduleStateStore } from '../../../../electron/services/jobs/cron-scheduler';
import { silentLogger } from '../../../../electron/services/logger';

class MemoryStore implements ScheduleStateStore {
  readonly rows = new Map<string, { anchorAt: string; lastRunAt: string | null; outcome: string | null; error: string | null }>();
  read(key: string): Promise<{ anchorAt: string; lastRunAt: string | null } | null> {
    const row = this.rows.get(key);
    return Promise.resolve(row ? { anchorAt: row.anchorAt, lastRunAt: row.lastRunAt } : null);
  }
  anchor(key: string, at: string): Promise<void> {
    if (!this.rows.has(key)) this.rows.set(key, { anchorAt: at, lastRunAt: null, outcome: null, error: null });
    return Promise.resolve();
  }
  recordStart(key: string, at: string): Promise<void> {
    const row = this.rows.get(key);
    if (row) Object.assign(row, { lastRunAt: at, outcome: 'started', error: null });
    return Promise.resolve();
  }
  recordOutcome(key: string, outcome: 'succeeded' | 'failed', error: string | null): Promise<void> {
    const row = this.rows.get(key);
    if (row) Object.assign(row, { outcome, error });
    return Promise.resolve();
  }
}

function clockAt(iso: string): { now: () => Date; set: (iso: string) => void } {
  let current = new Date(iso);
  return { now: () => new Date(current), set: (next) => void (current = new Date(next)) };
}

describe('CronScheduler', () => {
  it('computes the next run in UTC from the anchor, runs due tasks once, and records each run', async () => {
    const store = new MemoryStore();
    const clock = clockAt('2026-12-02T01:00:00Z');
    const runs: string[] = [];
    const scheduler = new CronScheduler({ store, logger: silentLogger, clock: clock.now });
    await scheduler.setTasks([{ key: 'backup:a', cron: '0 3 * * *', run: () => Promise.resolve(void runs.push(clock.now().toISOString())) }]);
    expect(scheduler.upcoming()).toEqual([{ key: 'backup:a', cron: '0 3 * * *', next: '2026-12-02T03:00:00.000Z' }]);
    await scheduler.tick();
    expect(runs).toEqual([]);
    clock.set('2026-12-02T03:00:05Z');
    await scheduler.tick();
    await scheduler.tick();
    expect(runs).toEqual(['2026-12-02T03:00:05.000Z']);
    expect(store.rows.get('backup:a')).toMatchObject({ lastRunAt: '2026-12-02T03:00:05.000Z', outcome: 'succeeded' });
    expect(scheduler.upcoming()[0]?.next).toBe('2026-12-03T03:00:00.000Z');
  });

  it('survives a restart: a slot missed while down runs once at start-up, then the rhythm resumes', async () => {
    const store = new MemoryStore();
    const clock = clockAt('2026-12-01T02:00:00Z');
    const runs: string[] = [];
    const task = { key: 'verify:a', cron: '0 3 * * *', run: () => Promise.resolve(void runs.push(clock.now().toISOString())) };
    const first = new CronScheduler({ store, logger: silentLogger, clock: clock.now });
    await first.setTasks([task]);
    clock.set('2026-12-01T03:00:00Z');
    await first.tick();
    expect(runs).toHaveLength(1);
    await first.stop();

    // Down for three days: a new process, the same store.
    clock.set('2026-12-04T12:00:00Z');
    const second = new CronScheduler({ store, logger: silentLogger, clock: clock.now });
    await second.setTasks([task]);
    expect(second.upcoming()[0]?.next).toBe('2026-12-02T03:00:00.000Z');
    await second.tick();
    await second.tick();
    expect(runs).toEqual(['2026-12-01T03:00:00.000Z', '2026-12-04T12:00:00.000Z']);
    expect(second.upcoming()[0]?.next).toBe('2026-12-05T03:00:00.000Z');

    // A process started again at once neither repeats nor skips.
    const third = new CronScheduler({ store, logger: silentLogger, clock: clock.now });
    await third.setTasks([task]);
    await third.tick();
    expect(runs).toHaveLength(2);
    expect(third.upcoming()[0]?.next).toBe('2026-12-05T03:00:00.000Z');
  });

  it('records a failed run and does not overlap a run still working', async () => {
    const store = new MemoryStore();
    const clock = clockAt('2026-12-02T00:00:30Z');
    let release!: () => void;
    let started = 0;
    const scheduler = new CronScheduler({ store, logger: silentLogger, clock: clock.now });
    await scheduler.setTasks([
      { key: 'slow', cron: '* * * * *', run: () => new Promise<void>((resolve) => void ((started += 1), (release = resolve))) },
      { key: 'broken', cron: '* * * * *', run: () => Promise.reject(new Error('repository unreachable')) },
    ]);
    clock.set('2026-12-02T00:01:00Z');
    const firstTick = scheduler.tick();
    clock.set('2026-12-02T00:02:00Z');
    await Promise.resolve();
    const secondTick = scheduler.tick();
    await secondTick;
    expect(started).toBe(1);
    release();
    await firstTick;
    expect(store.rows.get('broken')).toMatchObject({ outcome: 'failed', error: 'repository unreachable' });
    expect(store.rows.get('slow')).toMatchObject({ outcome: 'succeeded' });
  });

  it('refuses expressions that are not five cron fields', () => {
    expect(() => parseCron('every day')).toThrow(/five fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/not a valid cron expression/);
    expect(parseCron('*/15 2 * * 1-5').nextRun(new Date('2026-12-02T00:00:00Z'))?.toISOString()).toBe('2026-12-02T02:00:00.000Z');
  });
});
