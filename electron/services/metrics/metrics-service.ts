import type { Database } from 'better-sqlite3';
import type { AppNotification } from '../../../shared/domain/health';
import { reportRangeSchema, seriesQuerySchema, type MetricSeries, type MetricsReport, type MetricsUpdated, type ReportRange, type SeriesQuery } from '../../../shared/domain/metrics';
import { DepotError } from '../../../shared/errors';
import type { Logger } from '../logger';
import { AlertEngine } from './alert-engine';
import { AlertRepository } from './alert-repository';
import { AlertWebhook, type AlertWebhookOptions } from './alert-webhook';
import { defaultRetention, hourMs, type MetricsRetention } from './metric-event';
import { MetricsCollector } from './metrics-collector';
import { MetricsRepository } from './metrics-repository';
import { generateReport, reportToCsv } from './metrics-report';

export interface MetricsServiceOptions {
  db: Database;
  logger: Logger;
  notify: (notification: AppNotification) => void;
  /** Pushed after each stored batch and alert evaluation (live charts). */
  onUpdated?: (update: MetricsUpdated) => void;
  /** How long raw events are kept; read at each retention run. */
  rawRetentionMs?: () => number;
  /** Alertmanager-compatible webhook URL, read at each delivery. */
  webhookUrl?: () => string | null;
  webhook?: Partial<Omit<AlertWebhookOptions, 'url' | 'logger'>>;
  externalUrl?: () => string | null;
  clock?: () => number;
  /** 0 turns the timers off (tests drive flush, evaluate and retention themselves). */
  flushIntervalMs?: number;
  evaluationIntervalMs?: number;
  retentionIntervalMs?: number;
}

export interface ReportExport {
  filename: string;
  contentType: string;
  body: string;
}

/** Monitoring for the core: the collector every service records through, the series, reports and alerts over it. */
export class MetricsService {
  readonly repository: MetricsRepository;
  readonly collector: MetricsCollector;
  readonly alerts: AlertEngine;
  readonly webhook: AlertWebhook;
  private readonly clock: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private retentionRun: Promise<number> | null = null;
  private lastStoredEvaluation = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: MetricsServiceOptions) {
    this.clock = options.clock ?? Date.now;
    this.repository = new MetricsRepository(options.db);
    this.collector = new MetricsCollector({
      repository: this.repository,
      logger: options.logger,
      clock: this.clock,
      ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
      onStored: (stored) => this.afterStored(stored),
    });
    this.webhook = new AlertWebhook({ url: options.webhookUrl ?? (() => null), logger: options.logger, ...options.webhook });
    this.alerts = new AlertEngine({
      repository: new AlertRepository(options.db),
      metrics: this.repository,
      collector: this.collector,
      notify: options.notify,
      webhook: this.webhook,
      clock: this.clock,
      ...(options.externalUrl ? { externalUrl: options.externalUrl } : {}),
    });
    const every = (ms: number | undefined, fallback: number, run: () => void): void => {
      const interval = ms ?? fallback;
      if (interval <= 0) return;
      const timer = setInterval(run, interval);
      timer.unref();
      this.timers.push(timer);
    };
    // Rules also resolve and fire when no event arrives: evaluate on a timer, not only after writes.
    every(options.evaluationIntervalMs, 5_000, () => this.evaluateAlerts());
    every(options.retentionIntervalMs, hourMs, () => void this.runRetention());
  }

  retention(): MetricsRetention {
    return { ...defaultRetention, rawMs: this.options.rawRetentionMs?.() ?? defaultRetention.rawMs };
  }

  series(query: SeriesQuery): MetricSeries {
    const parsed = seriesQuerySchema.safeParse(query);
    if (!parsed.success) throw new DepotError('VALIDATION_FAILED', parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
    this.flushSmallBacklog();
    return this.repository.series(parsed.data, this.clock(), this.retention());
  }

  report(range: ReportRange): MetricsReport {
    const parsed = reportRangeSchema.safeParse(range);
    if (!parsed.success) throw new DepotError('VALIDATION_FAILED', parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
    this.flushSmallBacklog();
    return generateReport(this.repository, parsed.data, this.clock(), this.retention());
  }

  exportReport(range: ReportRange, format: 'json' | 'csv'): ReportExport {
    const report = this.report(range);
    const stamp = new Date(range.from).toISOString().replace(/[:.]/g, '-');
    return format === 'json'
      ? { filename: `torsh-depot-report-${stamp}.json`, contentType: 'application/json', body: `${JSON.stringify(report, null, 2)}\n` }
      : { filename: `torsh-depot-report-${stamp}.csv`, contentType: 'text/csv', body: reportToCsv(report) };
  }

  evaluateAlerts(): void {
    try {
      const changed = this.alerts.evaluate();
      if (changed.length > 0) this.publishUpdate(0);
    } catch (error) {
      this.options.logger.warn(`alerts: evaluation failed: ${(error as Error).message}`);
    }
  }

  /** Drops what is older than the retention, a few thousand rows per transaction, yielding in between. */
  runRetention(): Promise<number> {
    this.retentionRun ??= (async () => {
      let removed = 0;
      try {
        for (;;) {
          const step = this.repository.prune(this.clock(), this.retention(), 5_000);
          removed += step;
          if (step === 0) break;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        this.alerts.pruneHistory(this.clock() - this.retention().hourMs);
      } catch (error) {
        this.options.logger.warn(`metrics: retention failed: ${(error as Error).message}`);
      } finally {
        this.retentionRun = null;
      }
      return removed;
    })();
    return this.retentionRun;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.retentionRun;
    await this.collector.close();
    await this.webhook.close();
  }

  private afterStored(stored: number): void {
    // Rules measure windows of raw events: during a burst evaluate at most once a second (the timer does the rest).
    if (performance.now() - this.lastStoredEvaluation >= 1_000) {
      this.lastStoredEvaluation = performance.now();
      this.evaluateAlerts();
    }
    this.publishUpdate(stored);
  }

  /** A query sees what was just recorded, unless storing the backlog would hold the event loop up. */
  private flushSmallBacklog(): void {
    if (this.collector.bufferedCount() <= 5_000) this.collector.flush();
  }

  private publishUpdate(stored: number): void {
    const firing = this.alerts.list().filter((status) => status.state === 'firing').length;
    this.options.onUpdated?.({ at: this.clock(), stored, firing });
  }
}
