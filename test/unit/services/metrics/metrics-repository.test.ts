import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { MetricsRepository } from '../../../../electron/services/metrics/metrics-repository';
import { dayMs, defaultRetention, hourMs, minuteMs, type MetricEvent } from '../../../../electron/services/metrics/metric-event';
import { openMetricsTestDatabase } from './metrics-test-database';

let db: Database;
let cleanup: () => void;
let repository: MetricsRepository;

beforeEach(() => {
  ({ db, cleanup } = openMetricsTestDatabase());
  repository = new MetricsRepository(db);
});
afterEach(() => cleanup());

// A fixed, hour-aligned origin: 2026-11-01T00:00:00Z.
const origin = Date.UTC(2026, 10, 1);

function download(at: number, name: string, bytes: number, durationMs: number, version = '1.0.0', peer = 'registry'): MetricEvent {
  return { at, kind: 'download', name, version, peer, code: '', bytes, durationMs };
}

/** A deterministic spread of events over `hours` hours, in several batches. */
function generate(hours: number): MetricEvent[] {
  const events: MetricEvent[] = [];
  let seed = 7;
  const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
  for (let index = 0; index < 5_000; index += 1) {
    const at = origin + (next() % (hours * hourMs));
    const name = ['resnet-50', 'bert-base', 'vision/quokka'][next() % 3] as string;
    if (next() % 10 === 0) events.push({ at, kind: 'error', name: 'download', version: '', peer: 'registry', code: 'NOT_FOUND', bytes: 0, durationMs: 0 });
    else events.push(download(at, name, 1 + (next() % 1_000_000), next() % 5_000, `1.${next() % 3}.0`, next() % 4 === 0 ? 'mirror-eu' : 'registry'));
  }
  return events;
}

function insertInBatches(events: MetricEvent[], size: number): void {
  for (let start = 0; start < events.length; start += size) repository.insertBatch(events.slice(start, start + size));
}

describe('metrics time series', () => {
  it('totals over a range from minute and hour rollups equal the sum of the raw events', () => {
    const events = generate(6);
    insertInBatches(events, 700);
    const now = origin + 6 * hourMs;
    const rawDownloads = events.filter((event) => event.kind === 'download');
    const inRange = (from: number, to: number) => rawDownloads.filter((event) => event.at >= from && event.at < to);

    for (const [from, to, stepMs] of [
      [origin, origin + 6 * hourMs, minuteMs * 5],
      [origin + 90 * minuteMs, origin + 200 * minuteMs, minuteMs],
      [origin, origin + 6 * hourMs, hourMs],
      [origin + 2 * hourMs, origin + 3 * hourMs, 10_000],
    ] as const) {
      const expected = inRange(from, to);
      const counts = repository.series({ metric: 'downloads', from, to, stepMs }, now, defaultRetention);
      const bytes = repository.series({ metric: 'download_bytes', from, to, stepMs }, now, defaultRetention);
      expect(counts.points.reduce((sum, point) => sum + point.value, 0)).toBe(expected.length);
      expect(bytes.points.reduce((sum, point) => sum + point.value, 0)).toBe(expected.reduce((sum, event) => sum + event.bytes, 0));
      expect(counts.points).toHaveLength(Math.ceil((to - from) / stepMs));
      expect(counts.resolution).toBe(stepMs < minuteMs ? 'raw' : stepMs < hourMs ? 'minute' : 'hour');
    }

    const errors = repository.series({ metric: 'errors', from: origin, to: now, stepMs: hourMs }, now, defaultRetention);
    expect(errors.points.reduce((sum, point) => sum + point.value, 0)).toBe(events.filter((event) => event.kind === 'error').length);
    const quokka = repository.series({ metric: 'downloads', name: 'vision/quokka', from: origin, to: now, stepMs: hourMs }, now, defaultRetention);
    expect(quokka.points.reduce((sum, point) => sum + point.value, 0)).toBe(rawDownloads.filter((event) => event.name === 'vision/quokka').length);
  });

  it('puts each event in the point of its step and averages durations per point', () => {
    repository.insertBatch([download(origin + 1_000, 'a', 10, 100), download(origin + 2_000, 'a', 20, 300), download(origin + 65_000, 'a', 5, 50)]);
    const now = origin + hourMs;
    const counts = repository.series({ metric: 'downloads', from: origin, to: origin + 3 * minuteMs, stepMs: minuteMs }, now, defaultRetention);
    expect(counts.points.map((point) => point.value)).toEqual([2, 1, 0]);
    expect(counts.points.map((point) => point.t)).toEqual([origin, origin + minuteMs, origin + 2 * minuteMs]);
    const average = repository.series({ metric: 'download_duration_avg_ms', from: origin, to: origin + 2 * minuteMs, stepMs: minuteMs }, now, defaultRetention);
    expect(average.points.map((point) => point.value)).toEqual([200, 50]);
  });

  it('answers from hour rollups once the range is older than the minute rollups are kept', () => {
    repository.insertBatch([download(origin + 10 * minuteMs, 'a', 1, 1), download(origin + 70 * minuteMs, 'a', 1, 1)]);
    const now = origin + 40 * dayMs;
    const series = repository.series({ metric: 'downloads', from: origin, to: origin + 2 * hourMs, stepMs: minuteMs }, now, defaultRetention);
    expect(series.resolution).toBe('hour');
    expect(series.points.reduce((sum, point) => sum + point.value, 0)).toBe(2);
  });

  it('retention drops raw events after a day, minute rollups after 30 days, hour rollups after a year, and nothing newer', () => {
    const events = [
      download(origin, 'old', 1, 1),
      download(origin + 30 * minuteMs, 'old', 1, 1),
      download(origin + 2 * dayMs, 'mid', 1, 1),
      download(origin + 39 * dayMs + 12 * hourMs, 'recent', 1, 1),
      download(origin + 40 * dayMs + 23 * hourMs, 'fresh', 1, 1),
    ];
    repository.insertBatch(events);
    expect(repository.counts()).toEqual({ raw: 5, minute: 5, hour: 4 });

    // 41 days after origin: raw events of the last 24 h stay, minute rollups of the last 30 days stay.
    const now = origin + 41 * dayMs;
    while (repository.prune(now, defaultRetention, 2) > 0);
    expect(repository.counts()).toEqual({ raw: 1, minute: 2, hour: 4 });
    const remaining = db.prepare('SELECT name FROM metric_events').all();
    expect(remaining).toEqual([{ name: 'fresh' }]);
    const total = (from: number, to: number, stepMs: number) =>
      repository.series({ metric: 'downloads', from, to, stepMs }, now, defaultRetention).points.reduce((sum, point) => sum + point.value, 0);
    // Hour rollups still answer for the old days.
    expect(total(origin, origin + 3 * dayMs, hourMs)).toBe(3);

    const yearLater = origin + 366 * dayMs;
    while (repository.prune(yearLater, defaultRetention, 1_000) > 0);
    expect(repository.counts()).toEqual({ raw: 0, minute: 0, hour: 3 });
    expect(total(origin + 39 * dayMs, origin + 42 * dayMs, hourMs)).toBe(2);
    expect(total(origin, origin + 3 * dayMs, hourMs)).toBe(1);
  });

  it('measures a window: count, bytes and slowest duration of one kind', () => {
    repository.insertBatch([download(origin + 1_000, 'a', 10, 100), download(origin + 5_000, 'a', 30, 900), download(origin + 20_000, 'b', 1, 1)]);
    expect(repository.window('download', origin, origin + 10_000)).toEqual({ count: 2, bytes: 40, maxDurationMs: 900 });
    expect(repository.window('upload', origin, origin + 10_000)).toEqual({ count: 0, bytes: 0, maxDurationMs: null });
  });
});
