import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { MetricsService } from '../../../../electron/services/metrics/metrics-service';
import { silentLogger } from '../../../../electron/services/logger';
import { fakeClock, openMetricsTestDatabase } from './metrics-test-database';

let db: Database;
let cleanup: () => void;
let service: MetricsService;
const start = Date.UTC(2026, 10, 1, 12);
const clock = fakeClock(start);

beforeEach(() => {
  ({ db, cleanup } = openMetricsTestDatabase());
  clock.set(start);
  service = new MetricsService({ db, logger: silentLogger, notify: () => undefined, clock: clock.now, flushIntervalMs: 0, evaluationIntervalMs: 0, retentionIntervalMs: 0 });
});
afterEach(async () => {
  await service.close();
  cleanup();
});

function recordFixture(): void {
  // 100 downloads of resnet-50@1.0.0 taking 1..100 ms, 20 of bert@2.0.0 from a mirror taking 2 s, 2 uploads, 5 errors.
  for (let index = 1; index <= 100; index += 1) service.collector.recordDownload('resnet-50', '1.0.0', 1_000, index, 'registry');
  clock.advance(30_000);
  for (let index = 0; index < 20; index += 1) service.collector.recordDownload('bert', '2.0.0', 10_000, 2_000, 'mirror-eu');
  service.collector.recordUpload('resnet-50', '1.1.0', 50_000, 300, 'registry');
  service.collector.recordUpload('bert', '2.1.0', 70_000, 800, 's3');
  for (let index = 0; index < 5; index += 1) service.collector.recordError('download', 'registry', 'NOT_FOUND');
  clock.advance(30_000);
}

describe('generateReport', () => {
  it('totals, bandwidth, percentiles, error rate, top packages and versions, per-source breakdown', () => {
    recordFixture();
    const report = service.report({ from: start, to: start + 10 * 60_000 });
    expect(report).toMatchObject({ downloads: 120, uploads: 2, errors: 5, downloadBytes: 300_000, uploadBytes: 120_000 });
    expect(report.bandwidthBytesPerSecond).toBeCloseTo(420_000 / 600, 6);
    expect(report.errorRate).toBeCloseTo(5 / 127, 6);
    expect(report.topPackages).toEqual([
      { key: 'resnet-50', count: 100, bytes: 100_000 },
      { key: 'bert', count: 20, bytes: 200_000 },
    ]);
    expect(report.topVersions[0]).toEqual({ key: 'resnet-50@1.0.0', count: 100, bytes: 100_000 });
    expect(report.bySource).toEqual([
      { key: 'registry', count: 100, bytes: 100_000 },
      { key: 'mirror-eu', count: 20, bytes: 200_000 },
    ]);
    expect(report.byTarget.map((entry) => entry.key).sort()).toEqual(['registry', 's3']);
    expect(report.errorsByCode).toEqual([{ key: 'download NOT_FOUND', count: 5, bytes: 0 }]);
    // 120 durations: 100 of 1..100 ms and 20 of 2 s. The median is among the fast ones, p95/p99 among the slow ones.
    const { p50, p95, p99 } = report.downloadDurationMs;
    expect(p50).toBeGreaterThan(25);
    expect(p50).toBeLessThanOrEqual(100);
    expect(p95).toBeGreaterThan(1_000);
    expect(p95).toBeLessThanOrEqual(2_000);
    expect(p99).toBeLessThanOrEqual(2_000);
    expect(report.uploadDurationMs.p50).not.toBeNull();
  });

  it('an empty range reports zeros and no percentiles', () => {
    const report = service.report({ from: start - 3_600_000, to: start });
    expect(report).toMatchObject({ downloads: 0, errors: 0, errorRate: 0, downloadDurationMs: { p50: null, p95: null, p99: null }, topPackages: [] });
    expect(() => service.report({ from: start, to: start })).toThrow(/to must be after from/);
  });

  it('exports JSON and CSV', () => {
    recordFixture();
    const range = { from: start, to: start + 10 * 60_000 };
    const json = service.exportReport(range, 'json');
    expect(json.contentType).toBe('application/json');
    expect(json.filename).toMatch(/^torsh-depot-report-2026-11-01T12-00-00-000Z\.json$/);
    expect(JSON.parse(json.body)).toEqual(service.report(range));
    const csv = service.exportReport(range, 'csv');
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('section,key,count,bytes,value');
    expect(lines).toContain('totals,downloads,120,300000,');
    expect(lines).toContain('top_packages,resnet-50,100,100000,');
    expect(lines).toContain('top_versions,bert@2.0.0,20,200000,');
    expect(lines).toContain('by_source,mirror-eu,20,200000,');
  });
});
