/** Recent check latencies, oldest first; a failed check (null) is a red tick on the baseline. */
export function LatencySparkline({ points, width = 96, height = 22 }: { points: Array<number | null>; width?: number; height?: number }) {
  const values = points.filter((point): point is number => point !== null);
  const max = Math.max(1, ...values);
  const step = points.length > 1 ? (width - 2) / (points.length - 1) : 0;
  const x = (index: number): number => 1 + index * step;
  const y = (value: number): number => height - 2 - (value / max) * (height - 4);
  const segments: string[] = [];
  let current: string[] = [];
  points.forEach((point, index) => {
    if (point === null) {
      if (current.length > 0) segments.push(current.join(' '));
      current = [];
    } else current.push(`${x(index).toFixed(1)},${y(point).toFixed(1)}`);
  });
  if (current.length > 0) segments.push(current.join(' '));
  const label = values.length === 0 ? 'no latency measured yet' : `latency over the last ${points.length} checks, up to ${Math.round(max)} ms`;
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <line x1={0} x2={width} y1={height - 1} y2={height - 1} className="sparkline-base" />
      {segments.map((segment) =>
        segment.includes(' ') ? (
          <polyline key={segment} points={segment} className="sparkline-line" />
        ) : (
          <circle key={segment} cx={Number(segment.split(',')[0])} cy={Number(segment.split(',')[1])} r={1.8} className="sparkline-dot" />
        ),
      )}
      {points.map((point, index) => (point === null ? <line key={`fail-${index}`} x1={x(index)} x2={x(index)} y1={height - 7} y2={height - 1} className="sparkline-fail" /> : null))}
    </svg>
  );
}
