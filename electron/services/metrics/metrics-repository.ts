import type { Database, Statement } from 'better-sqlite3';
import type { MetricEventKind, MetricSeries, SeriesMetric, SeriesQuery } from '../../../shared/domain/metrics';
import { bucketIndex, durationBucketsMs } from './histogram-buckets';
import { hourMs, minuteMs, type MetricEvent, type MetricsRetention } from './metric-event';

interface RollupGroup {
  resolution: number;
  bucket: number;
  kind: MetricEventKind;
  name: string;
  version: string;
  peer: string;
  code: string;
  count: number;
  bytes: number;
  durationSum: number;
  durationMax: number;
  histogram: number[] | null;
}

interface RollupRow {
  count: number;
  bytes: number;
  duration_sum: number;
  duration_max: number;
  duration_histogram: string;
}

export interface KindTotals {
  count: number;
  bytes: number;
}

export interface RankedRow {
  key: string;
  count: number;
  bytes: number;
}

export interface DurationHistogram {
  counts: number[];
  max: number;
}

export interface WindowMeasure {
  count: number;
  bytes: number;
  maxDurationMs: number | null;
}

const seriesSources: Record<SeriesMetric, { kind: MetricEventKind; value: 'count' | 'bytes' | 'avg-duration' }> = {
  downloads: { kind: 'download', value: 'count' },
  uploads: { kind: 'upload', value: 'count' },
  errors: { kind: 'error', value: 'count' },
  accesses: { kind: 'access', value: 'count' },
  download_bytes: { kind: 'download', value: 'bytes' },
  upload_bytes: { kind: 'upload', value: 'bytes' },
  download_duration_avg_ms: { kind: 'download', value: 'avg-duration' },
  upload_duration_avg_ms: { kind: 'upload', value: 'avg-duration' },
};

const timedKinds = new Set<MetricEventKind>(['download', 'upload']);

/** Every SQL statement of the metrics time series. */
export class MetricsRepository {
  private readonly insertEvent: Statement;
  private readonly selectRollup: Statement;
  private readonly upsertRollup: Statement;
  private readonly measureWindow: Statement;

  constructor(private readonly db: Database) {
    this.insertEvent = db.prepare('INSERT INTO metric_events (at, kind, name, version, peer, code, bytes, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.selectRollup = db.prepare(`SELECT count, bytes, duration_sum, duration_max, duration_histogram FROM metric_rollups
      WHERE resolution_ms = ? AND bucket = ? AND kind = ? AND name = ? AND version = ? AND peer = ? AND code = ?`);
    this.upsertRollup = db.prepare(`INSERT OR REPLACE INTO metric_rollups
      (resolution_ms, bucket, kind, name, version, peer, code, count, bytes, duration_sum, duration_max, duration_histogram)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.measureWindow = db.prepare('SELECT count(*) AS count, coalesce(sum(bytes), 0) AS bytes, max(duration_ms) AS maxDuration FROM metric_events WHERE kind = ? AND at > ? AND at <= ?');
  }

  /** Stores a batch of raw events and folds them into the minute and hour rollups, in one transaction. */
  insertBatch(events: readonly MetricEvent[]): void {
    if (events.length === 0) return;
    this.db.transaction(() => {
      // Minute groups from the events (one lookup per event), hour groups from the minute groups.
      const minutes = new Map<string, RollupGroup>();
      for (const event of events) {
        this.insertEvent.run(event.at, event.kind, event.name, event.version, event.peer, event.code, event.bytes, event.durationMs);
        addToGroup(minutes, event);
      }
      const hours = new Map<string, RollupGroup>();
      for (const minute of minutes.values()) foldIntoHour(hours, minute);
      for (const group of [...minutes.values(), ...hours.values()]) {
        const existing = this.selectRollup.get(group.resolution, group.bucket, group.kind, group.name, group.version, group.peer, group.code) as RollupRow | undefined;
        const histogram = group.histogram ? mergeHistograms(existing ? (JSON.parse(existing.duration_histogram) as number[]) : [], group.histogram) : [];
        this.upsertRollup.run(
          group.resolution,
          group.bucket,
          group.kind,
          group.name,
          group.version,
          group.peer,
          group.code,
          group.count + (existing?.count ?? 0),
          group.bytes + (existing?.bytes ?? 0),
          group.durationSum + (existing?.duration_sum ?? 0),
          Math.max(group.durationMax, existing?.duration_max ?? 0),
          JSON.stringify(histogram),
        );
      }
    })();
  }

  /**
   * One series, from the finest store that still covers the range: raw events (kept `rawMs`) for
   * sub-minute steps, else minute rollups, else hour rollups.
   */
  series(query: SeriesQuery, now: number, retention: MetricsRetention): MetricSeries {
    const source = seriesSources[query.metric];
    const resolution = pickResolution(query.from, query.stepMs, now, retention);
    const from = resolution === 'raw' ? query.from : alignDown(query.from, resolutionMs(resolution));
    const slots = Math.ceil((query.to - from) / query.stepMs);
    const nameFilter = query.name === undefined ? '' : ' AND name = @name';
    const sql =
      resolution === 'raw'
        ? `SELECT CAST((at - @from) / @step AS INTEGER) AS slot, count(*) AS count, coalesce(sum(bytes), 0) AS bytes, coalesce(sum(duration_ms), 0) AS durationSum
           FROM metric_events WHERE kind = @kind AND at >= @from AND at < @to${nameFilter} GROUP BY slot`
        : `SELECT CAST((bucket - @from) / @step AS INTEGER) AS slot, sum(count) AS count, sum(bytes) AS bytes, sum(duration_sum) AS durationSum
           FROM metric_rollups WHERE resolution_ms = @resolution AND kind = @kind AND bucket >= @from AND bucket < @to${nameFilter} GROUP BY slot`;
    const rows = this.db.prepare(sql).all({
      from,
      to: query.to,
      step: query.stepMs,
      kind: source.kind,
      ...(resolution === 'raw' ? {} : { resolution: resolutionMs(resolution) }),
      ...(query.name === undefined ? {} : { name: query.name }),
    }) as Array<{ slot: number; count: number; bytes: number; durationSum: number }>;
    const values = new Array<number>(slots).fill(0);
    for (const row of rows) {
      if (row.slot < 0 || row.slot >= slots) continue;
      values[row.slot] = source.value === 'count' ? row.count : source.value === 'bytes' ? row.bytes : row.count > 0 ? row.durationSum / row.count : 0;
    }
    return { metric: query.metric, stepMs: query.stepMs, resolution, points: values.map((value, index) => ({ t: from + index * query.stepMs, value })) };
  }

  /** Count, bytes and slowest duration of one kind of event in (from, to]: what alert rules measure. */
  window(kind: MetricEventKind, from: number, to: number): WindowMeasure {
    const row = this.measureWindow.get(kind, from, to) as { count: number; bytes: number; maxDuration: number | null };
    return { count: row.count, bytes: row.bytes, maxDurationMs: row.maxDuration };
  }

  /** Rollup resolution a report over [from, to) reads: minutes up to two days, hours beyond (or when minutes are gone). */
  reportResolution(from: number, to: number, now: number, retention: MetricsRetention): number {
    return to - from <= 2 * 24 * hourMs && from >= now - retention.minuteMs ? minuteMs : hourMs;
  }

  totals(resolution: number, from: number, to: number): Map<MetricEventKind, KindTotals> {
    const rows = this.db
      .prepare('SELECT kind, sum(count) AS count, sum(bytes) AS bytes FROM metric_rollups WHERE resolution_ms = ? AND bucket >= ? AND bucket < ? GROUP BY kind')
      .all(resolution, alignDown(from, resolution), to) as Array<{ kind: MetricEventKind; count: number; bytes: number }>;
    return new Map(rows.map((row) => [row.kind, { count: row.count, bytes: row.bytes }]));
  }

  histogram(resolution: number, kind: MetricEventKind, from: number, to: number): DurationHistogram {
    const rows = this.db
      .prepare('SELECT duration_histogram AS histogram, duration_max AS max FROM metric_rollups WHERE resolution_ms = ? AND kind = ? AND bucket >= ? AND bucket < ?')
      .iterate(resolution, kind, alignDown(from, resolution), to) as IterableIterator<{ histogram: string; max: number }>;
    let counts: number[] = [];
    let max = 0;
    for (const row of rows) {
      counts = mergeHistograms(counts, JSON.parse(row.histogram) as number[]);
      max = Math.max(max, row.max);
    }
    return { counts, max };
  }

  /** The top rows of one kind grouped by a key expression (name, name@version, peer, name:code). */
  ranked(resolution: number, kind: MetricEventKind, by: 'name' | 'name-version' | 'peer' | 'name-code', from: number, to: number, limit: number): RankedRow[] {
    const key = { name: 'name', 'name-version': "name || '@' || version", peer: 'peer', 'name-code': "name || ' ' || code" }[by];
    return this.db
      .prepare(`SELECT ${key} AS key, sum(count) AS count, sum(bytes) AS bytes FROM metric_rollups
        WHERE resolution_ms = ? AND kind = ? AND bucket >= ? AND bucket < ? GROUP BY key ORDER BY count DESC, key LIMIT ?`)
      .all(resolution, kind, alignDown(from, resolution), to, limit) as RankedRow[];
  }

  /** Deletes about `limit` rows per store older than the retention allows; returns how many went (call again while > 0). */
  prune(now: number, retention: MetricsRetention, limit: number): number {
    return this.db.transaction(() => {
      let removed = this.db
        .prepare("DELETE FROM metric_events WHERE id IN (SELECT id FROM metric_events WHERE kind IN ('download','upload','error','access') AND at < ? LIMIT ?)")
        .run(now - retention.rawMs, limit).changes;
      removed += this.deleteOldRollups(minuteMs, now - retention.minuteMs, limit);
      removed += this.deleteOldRollups(hourMs, now - retention.hourMs, limit);
      return removed;
    })();
  }

  /** Rollups that end at or before `before`, oldest first, about `limit` rows (whole buckets) at a time. */
  private deleteOldRollups(resolution: number, before: number, limit: number): number {
    const lastWhollyOld = before - resolution;
    const edge = this.db
      .prepare('SELECT max(bucket) AS bucket FROM (SELECT bucket FROM metric_rollups WHERE resolution_ms = ? AND bucket <= ? ORDER BY bucket LIMIT ?)')
      .get(resolution, lastWhollyOld, limit) as { bucket: number | null };
    if (edge.bucket === null) return 0;
    return this.db.prepare('DELETE FROM metric_rollups WHERE resolution_ms = ? AND bucket <= ?').run(resolution, edge.bucket).changes;
  }

  /** Row counts per store, for tests and diagnostics. */
  counts(): { raw: number; minute: number; hour: number } {
    const raw = (this.db.prepare('SELECT count(*) AS n FROM metric_events').get() as { n: number }).n;
    const rollups = this.db.prepare('SELECT resolution_ms AS resolution, count(*) AS n FROM metric_rollups GROUP BY resolution_ms').all() as Array<{ resolution: number; n: number }>;
    return { raw, minute: rollups.find((row) => row.resolution === minuteMs)?.n ?? 0, hour: rollups.find((row) => row.resolution === hourMs)?.n ?? 0 };
  }
}

function addToGroup(groups: Map<string, RollupGroup>, event: MetricEvent): void {
  const bucket = event.at - (event.at % minuteMs);
  const key = `${bucket}\u0000${event.kind}\u0000${event.name}\u0000${event.version}\u0000${event.peer}\u0000${event.code}`;
  let group = groups.get(key);
  if (!group) {
    group = {
      resolution: minuteMs,
      bucket,
      kind: event.kind,
      name: event.name,
      version: event.version,
      peer: event.peer,
      code: event.code,
      count: 0,
      bytes: 0,
      durationSum: 0,
      durationMax: 0,
      histogram: timedKinds.has(event.kind) ? new Array<number>(durationBucketsMs.length + 1).fill(0) : null,
    };
    groups.set(key, group);
  }
  group.count += 1;
  group.bytes += event.bytes;
  group.durationSum += event.durationMs;
  if (event.durationMs > group.durationMax) group.durationMax = event.durationMs;
  if (group.histogram) {
    const index = bucketIndex(durationBucketsMs, event.durationMs);
    group.histogram[index] = (group.histogram[index] ?? 0) + 1;
  }
}

function foldIntoHour(hours: Map<string, RollupGroup>, minute: RollupGroup): void {
  const bucket = alignDown(minute.bucket, hourMs);
  const key = `${bucket}\u0000${minute.kind}\u0000${minute.name}\u0000${minute.version}\u0000${minute.peer}\u0000${minute.code}`;
  const hour = hours.get(key);
  if (!hour) {
    hours.set(key, { ...minute, resolution: hourMs, bucket, histogram: minute.histogram ? [...minute.histogram] : null });
    return;
  }
  hour.count += minute.count;
  hour.bytes += minute.bytes;
  hour.durationSum += minute.durationSum;
  hour.durationMax = Math.max(hour.durationMax, minute.durationMax);
  if (hour.histogram && minute.histogram) hour.histogram = mergeHistograms(hour.histogram, minute.histogram);
}

function mergeHistograms(a: readonly number[], b: readonly number[]): number[] {
  const length = Math.max(a.length, b.length);
  return Array.from({ length }, (_, index) => (a[index] ?? 0) + (b[index] ?? 0));
}

function pickResolution(from: number, stepMs: number, now: number, retention: MetricsRetention): MetricSeries['resolution'] {
  if (stepMs < minuteMs && from >= now - retention.rawMs) return 'raw';
  if (stepMs < hourMs && from >= now - retention.minuteMs) return 'minute';
  return 'hour';
}

function resolutionMs(resolution: MetricSeries['resolution']): number {
  return resolution === 'hour' ? hourMs : minuteMs;
}

export function alignDown(time: number, step: number): number {
  return Math.floor(time / step) * step;
}
