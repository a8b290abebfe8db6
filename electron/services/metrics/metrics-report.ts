import type { MetricsReport, ReportRange } from '../../../shared/domain/metrics';
import { durationBucketsMs, quantileFromBuckets } from './histogram-buckets';
import type { MetricsRetention } from './metric-event';
import type { MetricsRepository } from './metrics-repository';

const topLimit = 10;

/** Totals, bandwidth, duration percentiles, error rate, top packages and breakdowns over a range, from the rollups. */
export function generateReport(repository: MetricsRepository, range: ReportRange, now: number, retention: MetricsRetention): MetricsReport {
  const resolution = repository.reportResolution(range.from, range.to, now, retention);
  const totals = repository.totals(resolution, range.from, range.to);
  const total = (kind: 'download' | 'upload' | 'error') => totals.get(kind) ?? { count: 0, bytes: 0 };
  const downloads = total('download');
  const uploads = total('upload');
  const errors = total('error');
  const percentiles = (kind: 'download' | 'upload') => {
    const { counts, max } = repository.histogram(resolution, kind, range.from, range.to);
    const at = (q: number) => quantileFromBuckets(durationBucketsMs, counts, q, max);
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  };
  const operations = downloads.count + uploads.count + errors.count;
  const seconds = (range.to - range.from) / 1000;
  return {
    from: range.from,
    to: range.to,
    downloads: downloads.count,
    uploads: uploads.count,
    errors: errors.count,
    downloadBytes: downloads.bytes,
    uploadBytes: uploads.bytes,
    bandwidthBytesPerSecond: (downloads.bytes + uploads.bytes) / seconds,
    downloadDurationMs: percentiles('download'),
    uploadDurationMs: percentiles('upload'),
    errorRate: operations === 0 ? 0 : errors.count / operations,
    topPackages: repository.ranked(resolution, 'download', 'name', range.from, range.to, topLimit),
    topVersions: repository.ranked(resolution, 'download', 'name-version', range.from, range.to, topLimit),
    bySource: repository.ranked(resolution, 'download', 'peer', range.from, range.to, topLimit),
    byTarget: repository.ranked(resolution, 'upload', 'peer', range.from, range.to, topLimit),
    errorsByCode: repository.ranked(resolution, 'error', 'name-code', range.from, range.to, topLimit),
  };
}

/** The report as CSV: one `section,key,count,bytes,value` row per figure, RFC 4180 quoting. */
export function reportToCsv(report: MetricsReport): string {
  const rows: Array<Array<string | number | null>> = [['section', 'key', 'count', 'bytes', 'value']];
  rows.push(['range', 'from', null, null, new Date(report.from).toISOString()], ['range', 'to', null, null, new Date(report.to).toISOString()]);
  rows.push(['totals', 'downloads', report.downloads, report.downloadBytes, null], ['totals', 'uploads', report.uploads, report.uploadBytes, null], ['totals', 'errors', report.errors, null, null]);
  rows.push(['totals', 'bandwidth_bytes_per_second', null, null, report.bandwidthBytesPerSecond], ['totals', 'error_rate', null, null, report.errorRate]);
  for (const [kind, figures] of [['download', report.downloadDurationMs], ['upload', report.uploadDurationMs]] as const) {
    for (const [percentile, value] of Object.entries(figures)) rows.push([`${kind}_duration_ms`, percentile, null, null, value]);
  }
  const ranked = [
    ['top_packages', report.topPackages],
    ['top_versions', report.topVersions],
    ['by_source', report.bySource],
    ['by_target', report.byTarget],
    ['errors_by_code', report.errorsByCode],
  ] as const;
  for (const [section, entries] of ranked) for (const entry of entries) rows.push([section, entry.key, entry.count, entry.bytes, null]);
  return `${rows.map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  // A spreadsheet would run a key that starts like a formula: keep it text.
  const text = typeof value === 'string' && /^[=+\-@]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
