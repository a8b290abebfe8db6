import type { EdgeConfig, EdgeScore } from '../../../shared/domain/cdn';
import type { MirrorStatus } from '../../../shared/domain/mirrors';
import { regionDistanceKm } from '../../../shared/domain/regions';

/** What is known of one edge when choosing: its config, health and current load. */
export interface EdgeCandidate {
  config: EdgeConfig;
  status?: MirrorStatus;
  /** EWMA latency of its probes, ms. */
  latencyMs?: number | null;
  /** Current load as a fraction of capacity (0-1), from the edge's own figures or our transfer counts. */
  load?: number;
}

/**
 * Weights of the score's parts (lower is better): 1 point per 1,000 km, per 100 ms of latency, per
 * 20 % of load, and for each halving of the bandwidth left relative to 10 Gbps.
 */
const weights = { perThousandKm: 1, perHundredMs: 1, perFullLoad: 5, perBandwidthHalving: 1 } as const;

/**
 * Ranks edges for a client: unhealthy or disabled edges are listed but not eligible; a full edge
 * (load ≥ 1) is not eligible; unknown distance or latency add nothing but say so in the reason.
 */
export function rankEdges(candidates: readonly EdgeCandidate[], clientRegion: string | null): EdgeScore[] {
  const scored = candidates.map((candidate): EdgeScore => {
    const { config } = candidate;
    const load = Math.max(0, candidate.load ?? 0);
    const availableGbps = Math.max(0, config.capacity_gbps * (1 - load));
    const distanceKm = clientRegion ? regionDistanceKm(clientRegion, config.region) : null;
    const latencyMs = candidate.latencyMs ?? null;
    const parts = {
      distance: distanceKm === null ? null : round((distanceKm / 1000) * weights.perThousandKm),
      latency: latencyMs === null ? null : round((latencyMs / 100) * weights.perHundredMs),
      load: round(load * weights.perFullLoad),
      bandwidth: availableGbps > 0 ? round(Math.max(0, Math.log2(10 / availableGbps)) * weights.perBandwidthHalving) : 0,
    };
    const base = { edgeId: config.id, url: config.endpoint, region: config.region, parts, distanceKm: distanceKm === null ? null : Math.round(distanceKm), latencyMs, load: round(load), availableGbps: round(availableGbps) };
    const skip = !config.enabled ? 'disabled' : candidate.status === 'unhealthy' ? 'unhealthy' : load >= 1 ? 'at capacity' : null;
    if (skip) return { ...base, eligible: false, score: null, reason: skip };
    const score = round((parts.distance ?? 0) + (parts.latency ?? 0) + parts.load + parts.bandwidth + (candidate.status === 'degraded' ? 10 : 0));
    const notes = [
      distanceKm === null ? 'distance unknown' : `${Math.round(distanceKm)} km`,
      latencyMs === null ? 'not probed yet' : `${Math.round(latencyMs)} ms`,
      `load ${Math.round(load * 100)} %`,
      `${round(availableGbps)} Gbps free`,
      ...(candidate.status === 'degraded' ? ['degraded (+10)'] : []),
    ];
    return { ...base, eligible: true, score, reason: notes.join(', ') };
  });
  return scored.sort((a, b) => (a.score ?? Infinity) - (b.score ?? Infinity) || a.edgeId.localeCompare(b.edgeId));
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
