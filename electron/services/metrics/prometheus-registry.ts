/**
 * In-memory counters, gauges and histograms rendered in the Prometheus text format 0.0.4.
 * Updates are a map lookup and an addition: cheap enough for every recorded event.
 */
export type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly labelNames: readonly string[];
}

interface HistogramSeries {
  labels: Labels;
  buckets: number[];
  sum: number;
  count: number;
}

export class Counter {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly family: Family) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(this.family.labelNames, labels);
    const entry = this.series.get(key);
    if (entry) entry.value += by;
    else this.series.set(key, { labels, value: by });
  }

  render(): string[] {
    return [...this.series.values()].map(({ labels, value }) => `${this.family.name}${formatLabels(labels)} ${formatNumber(value)}`);
  }
}

export class Gauge {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly family: Family,
    /** Read at scrape time (e.g. the cache size), in addition to set values. */
    private readonly read?: () => Array<{ labels: Labels; value: number }>,
  ) {}

  set(labels: Labels, value: number): void {
    this.series.set(labelKey(this.family.labelNames, labels), { labels, value });
  }

  values(): Array<{ labels: Labels; value: number }> {
    return [...this.series.values(), ...(this.read?.() ?? [])];
  }

  render(): string[] {
    return this.values().map(({ labels, value }) => `${this.family.name}${formatLabels(labels)} ${formatNumber(value)}`);
  }
}

export class Histogram {
  private readonly series = new Map<string, HistogramSeries>();
  constructor(
    readonly family: Family,
    private readonly bounds: readonly number[],
  ) {}

  observe(labels: Labels, value: number, bucket: number): void {
    const key = labelKey(this.family.labelNames, labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, buckets: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    entry.buckets[bucket] = (entry.buckets[bucket] ?? 0) + 1;
    entry.sum += value;
    entry.count += 1;
  }

  render(): string[] {
    const lines: string[] = [];
    for (const { labels, buckets, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += buckets[index] ?? 0;
        lines.push(`${this.family.name}_bucket${formatLabels({ ...labels, le: formatNumber(bound) })} ${cumulative}`);
      });
      lines.push(`${this.family.name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${count}`);
      lines.push(`${this.family.name}_sum${formatLabels(labels)} ${formatNumber(sum)}`);
      lines.push(`${this.family.name}_count${formatLabels(labels)} ${count}`);
    }
    return lines;
  }
}

type Metric = Counter | Gauge | Histogram;

export class PrometheusRegistry {
  private readonly metrics: Metric[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter({ name, help, type: 'counter', labelNames }));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = [], read?: () => Array<{ labels: Labels; value: number }>): Gauge {
    return this.add(new Gauge({ name, help, type: 'gauge', labelNames }, read));
  }

  histogram(name: string, help: string, bounds: readonly number[], labelNames: readonly string[] = []): Histogram {
    return this.add(new Histogram({ name, help, type: 'histogram', labelNames }, bounds));
  }

  /** The exposition: every family with HELP and TYPE, families without samples included. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.metrics) {
      lines.push(`# HELP ${metric.family.name} ${escapeHelp(metric.family.help)}`, `# TYPE ${metric.family.name} ${metric.family.type}`, ...metric.render());
    }
    return `${lines.join('\n')}\n`;
  }

  private add<T extends Metric>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }
}

function labelKey(names: readonly string[], labels: Labels): string {
  // Hot path (every recorded event): no joining for the common one-label case.
  if (names.length === 0) return '';
  if (names.length === 1) return labels[names[0] as string] ?? '';
  let key = '';
  for (const name of names) key += `${labels[name] ?? ''}\u0000`;
  return key;
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
