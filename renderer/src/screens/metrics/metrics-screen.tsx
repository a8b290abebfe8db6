import { useEffect } from 'react';
import { ScreenHeader } from '../../components/screen-header';
import { formatBytes } from '../../lib/format';
import { metricsRanges, useMetricsStore } from '../../stores/metrics-store';
import { AlertsPanel } from './alerts-panel';
import { TimeSeriesChart } from './time-series-chart';
import { MonitoringSettings } from './monitoring-settings';

function formatMs(value: number | null): string {
  if (value === null) return '—';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

const formatCount = (value: number): string => String(Math.round(value));

/** Downloads, bandwidth, latency, errors and top packages over a chosen range; alert rules below. */
export function MetricsScreen() {
  const { rangeId, downloads, bandwidth, errors, report, error, setRange, refresh } = useMetricsStore();

  useEffect(() => {
    void refresh();
    // The window slides with the clock even when nothing happens.
    const timer = setInterval(() => void refresh(), 15_000);
    return () => clearInterval(timer);
  }, [refresh]);

  return (
    <section className="screen metrics-screen" aria-labelledby="screen-title">
      <ScreenHeader
        title="Metrics"
        subtitle="Downloads, bandwidth and failures of this registry; Prometheus scrapes the same figures at /metrics."
        actions={
          <div className="row">
            <button type="button" className="button secondary" onClick={() => void useMetricsStore.getState().exportReport('csv')}>
              Export CSV
            </button>
            <button type="button" className="button secondary" onClick={() => void useMetricsStore.getState().exportReport('json')}>
              Export JSON
            </button>
          </div>
        }
      />
      <fieldset className="segmented" aria-label="Time range" data-testid="metrics-range">
        {metricsRanges.map((range) => (
          <label key={range.id} className={range.id === rangeId ? 'selected' : ''}>
            <input type="radio" name="metrics-range" value={range.id} checked={range.id === rangeId} onChange={() => void setRange(range.id)} />
            {range.label}
          </label>
        ))}
      </fieldset>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
      <div className="grid-2 metrics-charts">
        <div className="card">
          <TimeSeriesChart title="Downloads" series={downloads} format={formatCount} testId="chart-downloads" />
        </div>
        <div className="card">
          <TimeSeriesChart title="Bandwidth (bytes downloaded)" series={bandwidth} format={formatBytes} testId="chart-bandwidth" />
        </div>
      </div>
      <div className="grid-2">
        <div className="card" data-testid="metrics-latency">
          <h2>Latency and errors</h2>
          {report ? (
            <dl className="facts">
              <dt>Download p50 / p95 / p99</dt>
              <dd data-testid="latency-download">
                {formatMs(report.downloadDurationMs.p50)} / {formatMs(report.downloadDurationMs.p95)} / {formatMs(report.downloadDurationMs.p99)}
              </dd>
              <dt>Upload p50 / p95 / p99</dt>
              <dd>
                {formatMs(report.uploadDurationMs.p50)} / {formatMs(report.uploadDurationMs.p95)} / {formatMs(report.uploadDurationMs.p99)}
              </dd>
              <dt>Error rate</dt>
              <dd data-testid="error-rate">
                {(report.errorRate * 100).toFixed(1)} % ({report.errors} of {report.downloads + report.uploads + report.errors} operations)
              </dd>
              <dt>Uploads</dt>
              <dd>
                {report.uploads} · {formatBytes(report.uploadBytes)}
              </dd>
              <dt>Average bandwidth</dt>
              <dd>{formatBytes(report.bandwidthBytesPerSecond)}/s</dd>
            </dl>
          ) : null}
          <TimeSeriesChart title="Errors" series={errors} format={formatCount} testId="chart-errors" />
        </div>
        <div className="card" data-testid="top-packages">
          <h2>Top packages</h2>
          {report && report.topPackages.length > 0 ? (
            <table className="table">
              <thead>
                <tr>
                  <th>Package</th>
                  <th>Downloads</th>
                  <th>Bytes</th>
                </tr>
              </thead>
              <tbody>
                {report.topPackages.map((entry) => (
                  <tr key={entry.key}>
                    <td>{entry.key}</td>
                    <td>{entry.count}</td>
                    <td>{formatBytes(entry.bytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">No downloads in this range.</p>
          )}
          {report && report.bySource.length > 0 ? (
            <>
              <h3>By source</h3>
              <ul className="plain">
                {report.bySource.map((entry) => (
                  <li key={entry.key}>
                    {entry.key}: {entry.count} · {formatBytes(entry.bytes)}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
      </div>
      <AlertsPanel />
      <MonitoringSettings />
    </section>
  );
}
