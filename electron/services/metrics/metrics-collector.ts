import type { Logger } from '../logger';
import type { MetricEventKind } from '../../../shared/domain/metrics';
import { bucketIndex, durationBucketsMs, sizeBucketsBytes } from './histogram-buckets';
import type { MetricEvent } from './metric-event';
import type { MetricsRepository } from './metrics-repository';
import { PrometheusRegistry, type Counter, type Gauge, type Histogram, type Labels } from './prometheus-registry';

export interface MetricsCollectorOptions {
  repository: MetricsRepository;
  logger: Logger;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  clock?: () => number;
  /** Buffered events are stored at least this often; 0 stores only on flush() or a full batch. */
  flushIntervalMs?: number;
  /** Rows per transaction (~1 ms of work on a 2-core VM, so a batch never holds a download back noticeably); a full batch is stored on the next turn of the event loop. */
  batchSize?: number;
  /** Beyond this many unstored events new ones are dropped (and counted), never unbounded memory. */
  maxBuffered?: number;
  /** Called after buffered events reach the database, with how many. */
  onStored?: (count: number) => void;
}

const noLabels: Labels = {};

export type GaugeMetric = 'cache_bytes' | 'storage_bytes' | 'mirrors_healthy' | 'replication_lag_seconds' | 'replication_hints';

/**
 * Every service records through this. Recording appends to an in-memory buffer and bumps the
 * in-memory Prometheus series; the buffer reaches SQLite in batches (one transaction each, the
 * event loop yielded between batches), so a caller never waits on the disk.
 */
export class MetricsCollector {
  readonly prometheus = new PrometheusRegistry();
  // Full batches wait in `ready`; new events go to `current` (no copying of a large buffer).
  private readonly ready: MetricEvent[][] = [];
  private current: MetricEvent[] = [];
  private buffered = 0;
  private draining: Promise<void> | null = null;
  private drainScheduled = false;
  private readonly timer: NodeJS.Timeout | null;
  private closed = false;
  private writeFailureLogged = false;
  private readonly clock: () => number;
  private readonly batchSize: number;
  private readonly maxBuffered: number;
  private readonly gaugeSources = new Map<GaugeMetric, () => number | null>();

  private readonly downloads: Counter;
  private readonly downloadBytes: Counter;
  private readonly uploads: Counter;
  private readonly uploadBytes: Counter;
  private readonly errors: Counter;
  private readonly accesses: Counter;
  private readonly dropped: Counter;
  private readonly downloadDuration: Histogram;
  private readonly downloadSize: Histogram;
  private readonly uploadDuration: Histogram;
  private readonly uploadSize: Histogram;
  private readonly storageUsed: Gauge;
  private readonly mirrorsHealthy: Gauge;
  private readonly replicationLag: Gauge;
  private readonly replicationQueued: Gauge;
  private readonly replicationHints: Gauge;
  private readonly alertsFiring: Gauge;

  constructor(private readonly options: MetricsCollectorOptions) {
    this.clock = options.clock ?? Date.now;
    this.batchSize = options.batchSize ?? 150;
    this.maxBuffered = options.maxBuffered ?? 500_000;
    const p = this.prometheus;
    this.downloads = p.counter('torsh_depot_downloads_total', 'Package downloads completed.', ['source']);
    this.downloadBytes = p.counter('torsh_depot_download_bytes_total', 'Bytes of package downloads completed.', ['source']);
    this.uploads = p.counter('torsh_depot_uploads_total', 'Package uploads (publishes) completed.', ['target']);
    this.uploadBytes = p.counter('torsh_depot_upload_bytes_total', 'Bytes of package uploads completed.', ['target']);
    this.errors = p.counter('torsh_depot_errors_total', 'Failed operations by operation and error code.', ['operation', 'code']);
    this.accesses = p.counter('torsh_depot_accesses_total', 'Access decisions by action and outcome.', ['action', 'outcome']);
    this.dropped = p.counter('torsh_depot_metrics_dropped_events_total', 'Metric events dropped because the write buffer was full.');
    const durationBucketsSeconds = durationBucketsMs.map((ms) => ms / 1000);
    this.downloadDuration = p.histogram('torsh_depot_download_duration_seconds', 'Time to serve a package download.', durationBucketsSeconds);
    this.downloadSize = p.histogram('torsh_depot_download_size_bytes', 'Size of served package downloads.', sizeBucketsBytes);
    this.uploadDuration = p.histogram('torsh_depot_upload_duration_seconds', 'Time to receive and store a package upload.', durationBucketsSeconds);
    this.uploadSize = p.histogram('torsh_depot_upload_size_bytes', 'Size of received package uploads.', sizeBucketsBytes);
    p.gauge('torsh_depot_cache_size_bytes', 'Bytes held by the package cache.', [], () => this.sourcedGauge('cache_bytes'));
    this.storageUsed = p.gauge('torsh_depot_storage_used_bytes', 'Bytes stored per storage backend.', ['backend']);
    this.mirrorsHealthy = p.gauge('torsh_depot_mirrors_healthy', 'Mirrors that passed their last health check.');
    this.replicationLag = p.gauge('torsh_depot_replication_lag_seconds', 'Age of the oldest change not yet replicated, per target.', ['target']);
    this.replicationQueued = p.gauge('torsh_depot_replication_queue_depth', 'Copies queued for a replication node (waiting, running or hinted).', ['target']);
    this.replicationHints = p.gauge('torsh_depot_replication_hints', 'Copies for a replication node that failed at least once and wait for a retry (hinted handoff).', ['target']);
    this.alertsFiring = p.gauge('torsh_depot_alerts_firing', 'Alert rules currently firing.');
    p.gauge('torsh_depot_metrics_buffered_events', 'Metric events waiting to be written to the database.', [], () => [{ labels: {}, value: this.buffered }]);
    this.timer = options.flushIntervalMs === 0 ? null : setInterval(() => this.scheduleDrain(), options.flushIntervalMs ?? 1_000);
    this.timer?.unref();
  }

  now(): number {
    return this.clock();
  }

  recordDownload(name: string, version: string, bytes: number, durationMs: number, source: string): void {
    const labels = { source };
    this.downloads.inc(labels);
    this.downloadBytes.inc(labels, bytes);
    this.downloadDuration.observe(noLabels, durationMs / 1000, bucketIndex(durationBucketsMs, durationMs));
    this.downloadSize.observe(noLabels, bytes, bucketIndex(sizeBucketsBytes, bytes));
    this.push('download', name, version, source, '', bytes, durationMs);
  }

  recordUpload(name: string, version: string, bytes: number, durationMs: number, target: string): void {
    const labels = { target };
    this.uploads.inc(labels);
    this.uploadBytes.inc(labels, bytes);
    this.uploadDuration.observe(noLabels, durationMs / 1000, bucketIndex(durationBucketsMs, durationMs));
    this.uploadSize.observe(noLabels, bytes, bucketIndex(sizeBucketsBytes, bytes));
    this.push('upload', name, version, target, '', bytes, durationMs);
  }

  recordError(operation: string, target: string, code: string): void {
    this.errors.inc({ operation, code });
    this.push('error', operation, '', target, code, 0, 0);
  }

  /** An access decision: who (`subject`) tried what (`action`), and whether it was allowed. */
  recordAccess(action: string, subject: string, outcome: 'allowed' | 'denied'): void {
    this.accesses.inc({ action, outcome });
    this.push('access', action, '', subject, outcome, 0, 0);
  }

  setStorageUsed(backend: string, bytes: number): void {
    this.storageUsed.set({ backend }, bytes);
  }

  setMirrorsHealthy(count: number): void {
    this.mirrorsHealthy.set({}, count);
  }

  setReplicationLag(target: string, seconds: number): void {
    this.replicationLag.set({ target }, seconds);
  }

  setReplicationQueue(target: string, queued: number, hints: number): void {
    this.replicationQueued.set({ target }, queued);
    this.replicationHints.set({ target }, hints);
  }

  setAlertsFiring(count: number): void {
    this.alertsFiring.set({}, count);
  }

  /** A gauge read when needed (scrape, alert evaluation) instead of pushed, e.g. the cache size. */
  setGaugeSource(metric: GaugeMetric, read: () => number | null): void {
    this.gaugeSources.set(metric, read);
  }

  /** A gauge's current value (summed over labels; replication lag: the worst), null when never set. */
  gaugeValue(metric: GaugeMetric): number | null {
    const sourced = this.gaugeSources.get(metric);
    if (sourced) return safeRead(sourced);
    const gauge = { cache_bytes: null, storage_bytes: this.storageUsed, mirrors_healthy: this.mirrorsHealthy, replication_lag_seconds: this.replicationLag, replication_hints: this.replicationHints }[metric];
    const values = gauge?.values().map((entry) => entry.value) ?? [];
    if (values.length === 0) return null;
    return metric === 'replication_lag_seconds' || metric === 'replication_hints' ? Math.max(...values) : values.reduce((sum, value) => sum + value, 0);
  }

  /** The Prometheus text exposition (format 0.0.4). */
  renderPrometheus(): string {
    return this.prometheus.render();
  }

  bufferedCount(): number {
    return this.buffered;
  }

  /** Stores everything buffered now (tests, shutdown, before a query that must see it). */
  flush(): number {
    let stored = 0;
    while (this.buffered > 0) stored += this.storeBatch();
    if (stored > 0) this.options.onStored?.(stored);
    return stored;
  }

  /** Waits until the buffer is empty, storing in batches with the event loop free in between. */
  async drain(): Promise<void> {
    this.draining ??= (async () => {
      let stored = 0;
      try {
        while (this.buffered > 0) {
          stored += this.storeBatch();
          if (this.buffered > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } finally {
        this.draining = null;
      }
      if (stored > 0) this.options.onStored?.(stored);
    })();
    return this.draining;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.draining;
    this.flush();
  }

  private push(kind: MetricEventKind, name: string, version: string, peer: string, code: string, bytes: number, durationMs: number): void {
    if (this.closed) return;
    if (this.buffered >= this.maxBuffered) {
      this.dropped.inc();
      return;
    }
    this.current.push({ at: this.clock(), kind, name, version, peer, code, bytes, durationMs });
    this.buffered += 1;
    if (this.current.length >= this.batchSize) {
      this.ready.push(this.current);
      this.current = [];
      this.scheduleDrain();
    }
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.draining || this.buffered === 0) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  private storeBatch(): number {
    let batch = this.ready.shift();
    if (!batch) {
      batch = this.current;
      this.current = [];
    }
    this.buffered -= batch.length;
    try {
      this.options.repository.insertBatch(batch);
      return batch.length;
    } catch (error) {
      this.dropped.inc({}, batch.length);
      if (!this.writeFailureLogged) {
        this.writeFailureLogged = true;
        this.options.logger.warn(`metrics: could not store ${batch.length} event(s): ${(error as Error).message}`);
      }
      return 0;
    }
  }

  private sourcedGauge(metric: GaugeMetric): Array<{ labels: Labels; value: number }> {
    const read = this.gaugeSources.get(metric);
    const value = read ? safeRead(read) : null;
    return value === null ? [] : [{ labels: {}, value }];
  }
}

function safeRead(read: () => number | null): number | null {
  try {
    return read();
  } catch {
    return null;
  }
}
