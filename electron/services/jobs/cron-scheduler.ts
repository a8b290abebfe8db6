import { Cron } from 'croner';
import type { Database } from 'better-sqlite3';
import { DepotError } from '../../../shared/errors';
import type { Logger } from '../logger';

/** What the scheduler remembers per task, so a restart keeps the rhythm (SQLite now; PostgreSQL later). */
export interface ScheduleStateStore {
  /** The task's anchor (when it was first scheduled) and last run, or null for a task never seen. */
  read(taskKey: string): Promise<{ anchorAt: string; lastRunAt: string | null } | null>;
  /** Records a task seen for the first time (its anchor); a task already known is left as it is. */
  anchor(taskKey: string, at: string): Promise<void>;
  recordStart(taskKey: string, at: string): Promise<void>;
  recordOutcome(taskKey: string, outcome: 'succeeded' | 'failed', error: string | null): Promise<void>;
}

export interface ScheduledTask {
  /** Stable across restarts: `backup:offsite`, `verify:offsite`, `replication:rule-3`… */
  key: string;
  /** Five-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC. */
  cron: string;
  run(): Promise<void>;
}

export interface CronSchedulerOptions {
  store: ScheduleStateStore;
  logger: Logger;
  clock?: () => Date;
  /** Longest sleep between checks: wakes regularly so clock jumps and suspends are noticed. */
  maxSleepMs?: number;
}

/** Throws a typed error for an expression croner cannot parse or that has not five fields. */
export function parseCron(expression: string): Cron {
  if (!/^(\S+\s+){4}\S+$/.test(expression.trim())) throw new DepotError('VALIDATION_FAILED', `"${expression}" is not a cron expression of five fields (minute hour day-of-month month day-of-week).`, { reason: 'bad-cron' });
  try {
    return new Cron(expression.trim(), { paused: true, timezone: 'UTC' });
  } catch (error) {
    throw new DepotError('VALIDATION_FAILED', `"${expression}" is not a valid cron expression: ${(error as Error).message}`, { reason: 'bad-cron' });
  }
}

interface Entry {
  task: ScheduledTask;
  cron: Cron;
  next: Date | null;
  running: boolean;
}

/**
 * Runs tasks on cron expressions. The next run is computed from the last run recorded in the store
 * (or from when the task was first scheduled), so a restart neither skips nor repeats a run: a slot
 * missed while the host was down runs once at start-up, then the rhythm resumes. One run of a task
 * at a time; a slot that comes while the previous run still works is skipped.
 */
export class CronScheduler {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private readonly clock: () => Date;
  private readonly maxSleepMs: number;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: CronSchedulerOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.maxSleepMs = options.maxSleepMs ?? 60_000;
  }

  /** Replaces the task set (config reloads); tasks keep their recorded history by key. */
  async setTasks(tasks: ScheduledTask[]): Promise<void> {
    const next = new Map<string, Entry>();
    for (const task of tasks) {
      const cron = parseCron(task.cron);
      const previous = this.entries.get(task.key);
      next.set(task.key, { task, cron, next: null, running: previous?.running ?? false });
    }
    this.entries.clear();
    for (const [key, entry] of next) this.entries.set(key, entry);
    const now = this.clock();
    for (const entry of this.entries.values()) {
      await this.options.store.anchor(entry.task.key, now.toISOString());
      entry.next = await this.nextFromStore(entry);
    }
    this.arm();
  }

  /** When each task runs next (null: never again). */
  upcoming(): Array<{ key: string; cron: string; next: string | null }> {
    return [...this.entries.values()].map((entry) => ({ key: entry.task.key, cron: entry.task.cron, next: entry.next?.toISOString() ?? null }));
  }

  start(): void {
    this.started = true;
    this.arm();
  }

  /** Stops the timer and waits for runs in progress. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.running]);
  }

  /** Runs every task that is due now (the timer calls it; tests call it with a fake clock). */
  async tick(): Promise<void> {
    const now = this.clock();
    const due = [...this.entries.values()].filter((entry) => entry.next !== null && entry.next.getTime() <= now.getTime() && !entry.running);
    const runs = due.map((entry) => this.runEntry(entry, now));
    this.arm();
    await Promise.all(runs);
  }

  private async nextFromStore(entry: Entry): Promise<Date | null> {
    const state = await this.options.store.read(entry.task.key);
    const base = new Date(state?.lastRunAt ?? state?.anchorAt ?? this.clock().toISOString());
    return entry.cron.nextRun(base);
  }

  private runEntry(entry: Entry, now: Date): Promise<void> {
    entry.running = true;
    entry.next = entry.cron.nextRun(now);
    const run = (async () => {
      try {
        await this.options.store.recordStart(entry.task.key, now.toISOString());
        try {
          await entry.task.run();
          await this.options.store.recordOutcome(entry.task.key, 'succeeded', null);
        } catch (error) {
          this.options.logger.warn(`scheduled ${entry.task.key} failed: ${(error as Error).message}`);
          await this.options.store.recordOutcome(entry.task.key, 'failed', (error as Error).message);
        }
      } catch (error) {
        this.options.logger.error(`scheduler: could not record ${entry.task.key}`, error);
      } finally {
        entry.running = false;
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.started) return;
    const soonest = Math.min(...[...this.entries.values()].map((entry) => entry.next?.getTime() ?? Number.POSITIVE_INFINITY));
    const wait = Math.max(0, Math.min(this.maxSleepMs, soonest - this.clock().getTime()));
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref();
  }
}

/** The scheduler's memory in the product database (`scheduled_runs`, migration 14). */
export class SqliteScheduleStateStore implements ScheduleStateStore {
  constructor(private readonly db: Database) {}

  read(taskKey: string): Promise<{ anchorAt: string; lastRunAt: string | null } | null> {
    const row = this.db.prepare('SELECT anchor_at, last_run_at FROM scheduled_runs WHERE task_key = ?').get(taskKey) as { anchor_at: string; last_run_at: string | null } | undefined;
    return Promise.resolve(row ? { anchorAt: row.anchor_at, lastRunAt: row.last_run_at } : null);
  }

  anchor(taskKey: string, at: string): Promise<void> {
    this.db.prepare('INSERT INTO scheduled_runs (task_key, anchor_at) VALUES (?, ?) ON CONFLICT (task_key) DO NOTHING').run(taskKey, at);
    return Promise.resolve();
  }

  recordStart(taskKey: string, at: string): Promise<void> {
    this.db.prepare(`UPDATE scheduled_runs SET last_run_at = ?, last_outcome = 'started', last_error = NULL WHERE task_key = ?`).run(at, taskKey);
    return Promise.resolve();
  }

  recordOutcome(taskKey: string, outcome: 'succeeded' | 'failed', error: string | null): Promise<void> {
    this.db.prepare('UPDATE scheduled_runs SET last_outcome = ?, last_error = ? WHERE task_key = ?').run(outcome, error, taskKey);
    return Promise.resolve();
  }
}
