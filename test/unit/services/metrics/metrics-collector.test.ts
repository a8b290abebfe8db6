import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { MetricsCollector } from '../../../../electron/services/metrics/metrics-collector';
import { MetricsRepository } from '../../../../electron/services/metrics/metrics-repository';
import { silentLogger } from '../../../../electron/services/logger';
import { fakeClock, openMetricsTestDatabase } from './metrics-test-database';

let db: Database;
let cleanup: () => void;
const collectors: MetricsCollector[] = [];

beforeEach(() => ({ db, cleanup } = openMetricsTestDatabase()));
afterEach(async () => {
  await Promise.all(collectors.splice(0).map((collector) => collector.close()));
  cleanup();
});

function storedEvents(): number {
  return (db.prepare('SELECT count(*) AS n FROM metric_events').get() as { n: number }).n;
}

function makeCollector(options: Partial<ConstructorParameters<typeof MetricsCollector>[0]> = {}): MetricsCollector {
  const collector = new MetricsCollector({ repository: new MetricsRepository(db), logger: silentLogger, flushIntervalMs: 0, ...options });
  collectors.push(collector);
  return collector;
}

describe('MetricsCollector', () => {
  it('buffers in memory: recording writes nothing until a batch fills, a flush or the timer', async () => {
    const stored: number[] = [];
    const collector = makeCollector({ batchSize: 100, onStored: (count) => stored.push(count) });
    for (let index = 0; index < 99; index += 1) collector.recordDownload('a', '1.0.0', 10, 5, 'registry');
    expect(storedEvents()).toBe(0);
    expect(collector.bufferedCount()).toBe(99);
    // The 100th event fills a batch: it is stored on a later turn of the event loop, not in the caller's.
    collector.recordDownload('a', '1.0.0', 10, 5, 'registry');
    expect(storedEvents()).toBe(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await collector.drain();
    expect(storedEvents()).toBe(100);
    expect(stored).toEqual([100]);
  });

  it('stores large bursts in several transactions, yielding to the event loop between them', async () => {
    const collector = makeCollector({ batchSize: 1_000 });
    for (let index = 0; index < 10_500; index += 1) collector.recordUpload('b', '2.0.0', 1, 1, 's3');
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 0);
    await collector.drain();
    clearInterval(ticker);
    expect(storedEvents()).toBe(10_500);
    expect(ticks).toBeGreaterThan(0);
  });

  it('stores on its timer', async () => {
    const collector = makeCollector({ flushIntervalMs: 20 });
    collector.recordError('publish', 'registry', 'CONFLICT');
    await expect.poll(storedEvents, { timeout: 10_000 }).toBe(1);
  });

  it('drops and counts events beyond the buffer bound instead of growing without limit', () => {
    const collector = makeCollector({ batchSize: 1_000, maxBuffered: 50 });
    for (let index = 0; index < 80; index += 1) collector.recordAccess('download', 'anonymous', 'allowed');
    expect(collector.bufferedCount()).toBe(50);
    expect(collector.renderPrometheus()).toMatch(/^torsh_depot_metrics_dropped_events_total 30$/m);
    // The counters still saw everything.
    expect(collector.renderPrometheus()).toMatch(/^torsh_depot_accesses_total\{action="download",outcome="allowed"\} 80$/m);
  });

  it('stamps events with the injected clock and keeps what it recorded', () => {
    const clock = fakeClock(1_700_000_000_000);
    const collector = makeCollector({ clock: clock.now });
    collector.recordDownload('vision/quokka', '1.2.0', 4_096, 12.5, 'registry');
    clock.advance(1_000);
    collector.recordError('download', 'registry', 'NOT_FOUND');
    collector.flush();
    expect(db.prepare('SELECT at, kind, name, version, peer, code, bytes, duration_ms AS durationMs FROM metric_events ORDER BY id').all()).toEqual([
      { at: 1_700_000_000_000, kind: 'download', name: 'vision/quokka', version: '1.2.0', peer: 'registry', code: '', bytes: 4_096, durationMs: 12.5 },
      { at: 1_700_000_001_000, kind: 'error', name: 'download', version: '', peer: 'registry', code: 'NOT_FOUND', bytes: 0, durationMs: 0 },
    ]);
  });

  it('renders counters, histograms and gauges with HELP and TYPE, escaping label values', () => {
    const collector = makeCollector();
    collector.recordDownload('a', '1.0.0', 2_000, 150, 'mirror "eu"\\1');
    collector.recordDownload('a', '1.0.0', 2_000_000, 40_000, 'registry');
    collector.setStorageUsed('s3', 12_345);
    collector.setReplicationLag('eu', 3.5);
    collector.setGaugeSource('cache_bytes', () => 777);
    const text = collector.renderPrometheus();
    expect(text).toContain('# HELP torsh_depot_downloads_total Package downloads completed.\n# TYPE torsh_depot_downloads_total counter\n');
    expect(text).toContain('torsh_depot_downloads_total{source="mirror \\"eu\\"\\\\1"} 1');
    expect(text).toContain('# TYPE torsh_depot_download_duration_seconds histogram');
    expect(text).toContain('torsh_depot_download_duration_seconds_bucket{le="0.25"} 1');
    expect(text).toContain('torsh_depot_download_duration_seconds_bucket{le="30"} 1');
    expect(text).toContain('torsh_depot_download_duration_seconds_bucket{le="60"} 2');
    expect(text).toContain('torsh_depot_download_duration_seconds_bucket{le="+Inf"} 2');
    expect(text).toContain('torsh_depot_download_duration_seconds_sum 40.15');
    expect(text).toContain('torsh_depot_download_size_bytes_count 2');
    expect(text).toContain('torsh_depot_storage_used_bytes{backend="s3"} 12345');
    expect(text).toContain('torsh_depot_cache_size_bytes 777');
    expect(collector.gaugeValue('cache_bytes')).toBe(777);
    expect(collector.gaugeValue('replication_lag_seconds')).toBe(3.5);
    expect(collector.gaugeValue('mirrors_healthy')).toBeNull();
  });
});
