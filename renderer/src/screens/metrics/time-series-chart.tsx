import type { MetricSeries } from '../../../../shared/domain/metrics';

const width = 600;
const height = 160;
const padding = { top: 10, right: 8, bottom: 20, left: 8 };

/** A hand-drawn SVG area chart of one series; no chart library, no canvas, accessible as a summary. */
export function TimeSeriesChart({ title, series, format, testId }: { title: string; series: Pick<MetricSeries, 'stepMs' | 'points'> | null; format: (value: number) => string; testId: string }) {
  const points = series?.points ?? [];
  const total = points.reduce((sum, point) => sum + point.value, 0);
  const max = Math.max(0, ...points.map((point) => point.value));
  const plotWidth = width - padding.left - padding.right;
  const plotHeight = height - padding.top - padding.bottom;
  const x = (index: number): number => padding.left + (points.length <= 1 ? plotWidth / 2 : (index / (points.length - 1)) * plotWidth);
  const y = (value: number): number => padding.top + plotHeight - (max === 0 ? 0 : (value / max) * plotHeight);
  const line = points.map((point, index) => `${index === 0 ? 'M' : 'L'}${x(index).toFixed(1)},${y(point.value).toFixed(1)}`).join(' ');
  const area = points.length > 0 ? `${line} L${x(points.length - 1).toFixed(1)},${y(0)} L${x(0).toFixed(1)},${y(0)} Z` : '';
  const first = points[0];
  const last = points.at(-1);
  const summary = `${title}: ${format(total)} in total, peak ${format(max)} per ${formatStep(series?.stepMs ?? 0)}.`;

  return (
    <figure className="chart" data-testid={testId} data-total={total} data-points={points.length}>
      <figcaption className="row spread">
        <span className="chart-title">{title}</span>
        <span className="chart-total" data-testid={`${testId}-total`}>
          {format(total)}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={summary}>
        <line x1={padding.left} x2={width - padding.right} y1={y(0)} y2={y(0)} className="chart-axis" />
        <line x1={padding.left} x2={width - padding.right} y1={padding.top} y2={padding.top} className="chart-grid" />
        {area ? <path d={area} className="chart-area" /> : null}
        {line ? <path d={line} className="chart-line" vectorEffect="non-scaling-stroke" /> : null}
      </svg>
      <div className="row spread chart-legend muted">
        <span>{first ? formatClock(first.t) : '—'}</span>
        <span>peak {format(max)} / {formatStep(series?.stepMs ?? 0)}</span>
        <span>{last ? formatClock(last.t) : '—'}</span>
      </div>
    </figure>
  );
}

function formatClock(t: number): string {
  return new Date(t).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function formatStep(ms: number): string {
  if (ms >= 3_600_000) return `${ms / 3_600_000} h`;
  if (ms >= 60_000) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
