import { randomUUID } from 'node:crypto';
import { DepotError, toErrorEnvelope } from '../../../shared/errors';
import type { JobRecord, JobStatus } from '../../../shared/domain/jobs';
import type { EventBus } from '../events/event-bus';
import type { JobRepository } from './job-repository';
import type { Logger } from '../logger';

export interface JobContext {
  readonly signal: AbortSignal;
  /** progress in 0..1 (null when unknown); throttled before it reaches the UI and the database. */
  reportProgress(progress: number | null, message?: string): void;
}

export type JobWork<Result> = (context: JobContext) => Promise<Result>;

export interface JobHandle<Result> {
  readonly record: JobRecord;
  /** Settles when the job ends; rejects with the job's error (a DepotError 'CANCELLED' on cancel). */
  readonly done: Promise<Result>;
}

interface ActiveJob {
  record: JobRecord;
  controller: AbortController;
  work: JobWork<unknown>;
  lastFlush: number;
  pendingFlush: NodeJS.Timeout | undefined;
  settle: { resolve: (value: unknown) => void; reject: (error: unknown) => void };
}

export interface JobRunnerOptions {
  repository: JobRepository;
  events: EventBus;
  logger: Logger;
  maxConcurrent?: number;
  progressIntervalMs?: number;
  historyLimit?: () => number;
  now?: () => Date;
}

/**
 * Runs long operations: persisted records, progress events, cancellation through AbortSignal,
 * a concurrency cap, and history that survives restarts.
 */
export class JobRunner {
  private readonly active = new Map<string, ActiveJob>();
  private readonly queue: string[] = [];
  private running = 0;
  private closed = false;
  private readonly maxConcurrent: number;
  private readonly progressIntervalMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: JobRunnerOptions) {
    this.maxConcurrent = options.maxConcurrent ?? 2;
    this.progressIntervalMs = options.progressIntervalMs ?? 100;
    this.now = options.now ?? (() => new Date());
    const interrupted = options.repository.markUnfinishedInterrupted(this.now().toISOString());
    if (interrupted > 0) options.logger.warn(`${interrupted} job(s) were interrupted by the last shutdown`);
  }

  /** Queues work as a job. The returned promise never rejects unhandled: callers may ignore `done`. */
  start<Result>(kind: string, title: string, params: unknown, work: JobWork<Result>): JobHandle<Result> {
    if (this.closed) throw new DepotError('UNAVAILABLE', 'The app is shutting down; no new jobs are accepted.');
    const record: JobRecord = {
      id: randomUUID(),
      kind,
      title,
      status: 'queued',
      progress: 0,
      message: null,
      createdAt: this.now().toISOString(),
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    };
    this.options.repository.insert(record, params);
    let settle!: ActiveJob['settle'];
    const done = new Promise<Result>((resolve, reject) => {
      settle = { resolve: resolve as (value: unknown) => void, reject };
    });
    done.catch(() => undefined);
    this.active.set(record.id, { record, controller: new AbortController(), work: work as JobWork<unknown>, lastFlush: 0, pendingFlush: undefined, settle });
    this.queue.push(record.id);
    this.publish(record);
    this.pump();
    return { record: { ...record }, done };
  }

  get(id: string): JobRecord {
    const live = this.active.get(id);
    if (live) return { ...live.record };
    const stored = this.options.repository.get(id);
    if (!stored) throw new DepotError('NOT_FOUND', `No job with id ${id}.`);
    return stored;
  }

  list(limit: number, status?: JobStatus): JobRecord[] {
    return this.options.repository.list(limit, status).map((record) => {
      const live = this.active.get(record.id);
      return live ? { ...live.record } : record;
    });
  }

  runningCount(): number {
    return this.active.size;
  }

  cancel(id: string): JobRecord {
    const job = this.active.get(id);
    if (!job) {
      const stored = this.get(id);
      return stored; // Already finished: cancelling is a no-op, not an error.
    }
    if (job.record.status === 'queued') {
      this.queue.splice(this.queue.indexOf(id), 1);
      this.finish(job, 'cancelled', null, new DepotError('CANCELLED', 'Cancelled before it started.'));
      return this.get(id);
    }
    job.record.message = 'Cancelling…';
    job.controller.abort(new DepotError('CANCELLED', 'Cancelled by the user.'));
    this.publish(job.record);
    return { ...job.record };
  }

  clearHistory(): number {
    return this.options.repository.deleteFinished();
  }

  /** Stops accepting work, cancels what runs, and waits (bounded) for it to wind down. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    const pending = [...this.active.values()];
    for (const job of pending) this.cancel(job.record.id);
    const settled = Promise.allSettled(pending.map((job) => job.settle && this.whenFinished(job.record.id)));
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  private whenFinished(id: string): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.active.has(id)) resolve();
        else setTimeout(check, 20).unref();
      };
      check();
    });
  }

  private pump(): void {
    while (this.running < this.maxConcurrent && this.queue.length > 0) {
      const id = this.queue.shift();
      const job = id === undefined ? undefined : this.active.get(id);
      if (!job) continue;
      this.running += 1;
      void this.execute(job).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  private async execute(job: ActiveJob): Promise<void> {
    job.record.status = 'running';
    job.record.startedAt = this.now().toISOString();
    this.persistAndPublish(job.record);
    const context: JobContext = {
      signal: job.controller.signal,
      reportProgress: (progress, message) => {
        if (job.record.status !== 'running') return;
        job.record.progress = progress === null ? null : Math.min(1, Math.max(0, progress));
        if (message !== undefined) job.record.message = message;
        this.flushThrottled(job);
      },
    };
    try {
      const result = await job.work(context);
      if (job.controller.signal.aborted) throw job.controller.signal.reason;
      this.finish(job, 'succeeded', result ?? null, null);
    } catch (error) {
      const cancelled = job.controller.signal.aborted;
      if (!cancelled) this.options.logger.error(`job ${job.record.kind} ${job.record.id} failed`, error);
      this.finish(job, cancelled ? 'cancelled' : 'failed', null, cancelled ? new DepotError('CANCELLED', 'Cancelled by the user.') : error);
    }
  }

  private finish(job: ActiveJob, status: JobStatus, result: unknown, error: unknown): void {
    if (job.pendingFlush) clearTimeout(job.pendingFlush);
    job.record.status = status;
    job.record.finishedAt = this.now().toISOString();
    job.record.result = result as JobRecord['result'];
    job.record.error = error === null ? null : toErrorEnvelope(error);
    if (status === 'succeeded') {
      job.record.progress = 1;
      job.record.message = null;
    } else if (status === 'cancelled') {
      job.record.message = 'Cancelled';
    }
    this.persistAndPublish(job.record);
    this.active.delete(job.record.id);
    if (status === 'succeeded') job.settle.resolve(result);
    else job.settle.reject(error instanceof DepotError ? error : new DepotError(job.record.error?.code ?? 'INTERNAL', job.record.error?.message ?? 'Job failed', { cause: error }));
    const keep = this.options.historyLimit?.();
    if (keep !== undefined) this.options.repository.pruneFinished(keep);
    if (status !== 'cancelled') {
      this.options.events.emit('notification', {
        title: status === 'succeeded' ? `${job.record.title} finished` : `${job.record.title} failed`,
        body: status === 'succeeded' ? 'Done.' : (job.record.error?.message ?? 'Failed.'),
        level: status === 'succeeded' ? 'success' : 'error',
      });
    }
  }

  private flushThrottled(job: ActiveJob): void {
    const elapsed = Date.now() - job.lastFlush;
    if (elapsed >= this.progressIntervalMs) {
      this.persistAndPublish(job.record);
      return;
    }
    job.pendingFlush ??= setTimeout(() => {
      job.pendingFlush = undefined;
      if (this.active.has(job.record.id)) this.persistAndPublish(job.record);
    }, this.progressIntervalMs - elapsed);
  }

  private persistAndPublish(record: JobRecord): void {
    const job = this.active.get(record.id);
    if (job) job.lastFlush = Date.now();
    this.options.repository.update(record);
    this.publish(record);
  }

  private publish(record: JobRecord): void {
    this.options.events.emit('jobs.updated', { ...record });
  }
}
