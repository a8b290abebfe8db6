import type { CacheOutcome } from '../../../shared/domain/cdn';
import type { Counter, Gauge, PrometheusRegistry } from '../metrics/prometheus-registry';

/**
 * CDN series in `/metrics`, registered on the one collector's Prometheus registry: requests by
 * cache outcome, bytes from the edge's cache vs from the origin, hit ratio, edge up and probe latency.
 */
export class CdnMetrics {
  private readonly requests: Counter;
  private readonly bytes: Counter;
  private readonly up: Gauge;
  private readonly latency: Gauge;
  private readonly counts = new Map<string, { hits: number; misses: number }>();

  constructor(prometheus: PrometheusRegistry) {
    this.requests = prometheus.counter('torsh_depot_cdn_requests_total', 'Transfers through a CDN edge by cache outcome (hit, miss, unknown).', ['edge', 'outcome']);
    this.bytes = prometheus.counter('torsh_depot_cdn_bytes_total', "Bytes through a CDN edge, by where they came from (edge: the edge's cache, origin: fetched from the origin).", ['edge', 'source']);
    prometheus.gauge('torsh_depot_cdn_hit_ratio', 'Hits over hits and misses through a CDN edge since start.', ['edge'], () =>
      [...this.counts].filter(([, count]) => count.hits + count.misses > 0).map(([edge, count]) => ({ labels: { edge }, value: count.hits / (count.hits + count.misses) })),
    );
    this.up = prometheus.gauge('torsh_depot_cdn_edge_up', 'Whether a CDN edge is serving (1 Healthy or Degraded, 0 Unhealthy), from its probes.', ['edge']);
    this.latency = prometheus.gauge('torsh_depot_cdn_edge_latency_seconds', "EWMA latency of a CDN edge's probes.", ['edge']);
  }

  recordTransfer(edge: string, outcome: CacheOutcome, bytes: number): void {
    this.requests.inc({ edge, outcome });
    if (bytes > 0) this.bytes.inc({ edge, source: outcome === 'miss' ? 'origin' : 'edge' }, bytes);
    const count = this.counts.get(edge) ?? { hits: 0, misses: 0 };
    if (outcome === 'hit') count.hits += 1;
    if (outcome === 'miss') count.misses += 1;
    this.counts.set(edge, count);
  }

  setEdgeHealth(edge: string, health: { up: boolean | null; latencySeconds: number | null }): void {
    if (health.up !== null) this.up.set({ edge }, health.up ? 1 : 0);
    if (health.latencySeconds !== null) this.latency.set({ edge }, health.latencySeconds);
  }
}
