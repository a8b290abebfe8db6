import type { MirrorConfig, MirrorRankEntry, MirrorStatus, SelectionStrategy } from '../../../shared/domain/mirrors';
import { regionCoordinates, greatCircleKm } from '../../../shared/domain/regions';

export { seededRandom } from '../../../shared/seeded-random';

/** What the selector knows of one mirror at the moment of choosing. */
export interface MirrorCandidate {
  config: MirrorConfig;
  /** From the health machinery; absent means never checked (`unknown`). */
  status?: MirrorStatus;
  /** EWMA latency of its health checks, ms. */
  latencyMs?: number | null;
  /** Transfers it is carrying now (least-loaded divides by `capacity`). */
  activeTransfers?: number;
  /** Whether its (verified) index lists the version; null or absent when not asked. */
  hasVersion?: boolean | null;
  /** Why its index could not be used (unsigned, unreachable …): it is skipped, with this as the reason. */
  indexError?: string | null;
}

export interface RankOptions {
  strategy: SelectionStrategy;
  /** `--region`, `TORSH_DEPOT_REGION` or `client_region` (see `resolveClientRegion`). */
  clientRegion?: string | null;
  /** Uniform [0, 1): weighted choices draw from it. `seededRandom(n)` makes a ranking repeatable. */
  random?: () => number;
  /** Round-robin: how many downloads this mirror set has started (the rotation). */
  turn?: number;
  /** The registry's own download URL, ranked last when `autoFallback` is on. */
  origin?: { url: string } | null;
  autoFallback?: boolean;
}

export const originMirrorId = 'origin';

interface Scored {
  candidate: MirrorCandidate;
  /** Lower ranks first. */
  key: number[];
  score: number | null;
  reason: string;
}

/**
 * Orders a mirror set for one download. Disabled and unhealthy mirrors, and mirrors whose index lacks
 * the version (or could not be verified), are listed with `eligible: false` and no place. Degraded
 * mirrors keep their strategy order but come after the healthy ones. The registry origin, when given,
 * is the last place (eligible only with `autoFallback`).
 */
export function rankMirrors(candidates: readonly MirrorCandidate[], options: RankOptions): MirrorRankEntry[] {
  const skipped: MirrorRankEntry[] = [];
  const eligible: MirrorCandidate[] = [];
  for (const candidate of candidates) {
    const why = skipReason(candidate);
    if (why === null) eligible.push(candidate);
    else skipped.push({ id: candidate.config.id, url: candidate.config.url, place: null, eligible: false, reason: why, score: null });
  }

  const scored = scoreAll(eligible, options);
  // Healthy (and never-checked) mirrors before degraded ones; the strategy orders within each group.
  scored.sort((a, b) => degradedRank(a.candidate) - degradedRank(b.candidate) || compareKeys(a.key, b.key) || a.candidate.config.id.localeCompare(b.candidate.config.id));

  const ranked: MirrorRankEntry[] = scored.map((entry, index) => ({
    id: entry.candidate.config.id,
    url: entry.candidate.config.url,
    place: index + 1,
    eligible: true,
    reason: entry.candidate.status === 'degraded' ? `${entry.reason}; degraded, after the healthy mirrors` : entry.reason,
    score: entry.score,
  }));
  if (options.origin) {
    const fallback = options.autoFallback ?? true;
    ranked.push({
      id: originMirrorId,
      url: options.origin.url,
      place: fallback ? ranked.length + 1 : null,
      eligible: fallback,
      reason: fallback ? 'the registry itself, last resort (auto_fallback)' : 'the registry itself; auto_fallback is off',
      score: null,
    });
  }
  return [...ranked, ...skipped];
}

function skipReason(candidate: MirrorCandidate): string | null {
  if (!candidate.config.enabled) return 'disabled';
  if (candidate.status === 'unhealthy') return 'unhealthy';
  if (candidate.indexError) return `index not usable: ${candidate.indexError}`;
  if (candidate.hasVersion === false) return 'its index lacks this version';
  return null;
}

function degradedRank(candidate: MirrorCandidate): number {
  return candidate.status === 'degraded' ? 1 : 0;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function scoreAll(eligible: MirrorCandidate[], options: RankOptions): Scored[] {
  const random = options.random ?? Math.random;
  switch (options.strategy) {
    case 'geographic':
      return geographic(eligible, options.clientRegion ?? null, random);
    case 'priority':
      return priority(eligible, random);
    case 'weighted':
      return eligible.map((candidate) => {
        const draw = weightedDraw(candidate.config.weight, random);
        return { candidate, key: [-draw], score: candidate.config.weight, reason: `weight ${candidate.config.weight} (random draw ${draw.toFixed(3)})` };
      });
    case 'least-loaded':
      return eligible.map((candidate) => {
        const active = candidate.activeTransfers ?? 0;
        const load = active / candidate.config.capacity;
        return { candidate, key: [load, candidate.config.priority], score: load, reason: `load ${active}/${candidate.config.capacity} (${Math.round(load * 100)} %)` };
      });
    case 'lowest-latency':
      return eligible.map((candidate) => {
        const latency = candidate.latencyMs ?? null;
        return latency === null
          ? { candidate, key: [1, 0, candidate.config.priority], score: null, reason: 'latency not measured yet' }
          : { candidate, key: [0, latency, candidate.config.priority], score: latency, reason: `latency ${Math.round(latency)} ms (EWMA)` };
      });
    case 'round-robin': {
      const order = [...eligible].sort((a, b) => a.config.id.localeCompare(b.config.id));
      const turn = options.turn ?? 0;
      return order.map((candidate, index) => {
        const slot = order.length === 0 ? 0 : (index - (turn % order.length) + order.length) % order.length;
        return { candidate, key: [slot], score: slot, reason: `round-robin turn ${turn}: slot ${slot + 1} of ${order.length}` };
      });
    }
  }
}

/** Efraimidis–Spirakis: u^(1/w) sorted descending is a weighted random permutation; weight 0 always last. */
function weightedDraw(weight: number, random: () => number): number {
  return weight <= 0 ? -1 : random() ** (1 / weight);
}

function priority(eligible: MirrorCandidate[], random: () => number): Scored[] {
  return eligible.map((candidate) => {
    const draw = weightedDraw(candidate.config.weight, random);
    const tied = eligible.filter((other) => other.config.priority === candidate.config.priority).length;
    const among = tied > 1 ? `, weight ${candidate.config.weight} among ${tied} tied` : '';
    return { candidate, key: [candidate.config.priority, -draw], score: candidate.config.priority, reason: `priority ${candidate.config.priority}${among}` };
  });
}

function geographic(eligible: MirrorCandidate[], clientRegion: string | null, random: () => number): Scored[] {
  const client = clientRegion === null ? null : regionCoordinates(clientRegion);
  if (client === null) {
    const why = clientRegion === null ? 'no client region (--region, TORSH_DEPOT_REGION, client_region)' : `unknown client region "${clientRegion}"`;
    return priority(eligible, random).map((entry) => ({ ...entry, reason: `${why}: by ${entry.reason}` }));
  }
  return eligible.map((candidate) => {
    const where = candidate.config.region === undefined ? null : regionCoordinates(candidate.config.region);
    if (where === null || candidate.config.region === undefined) {
      return { candidate, key: [Number.POSITIVE_INFINITY, candidate.config.priority], score: null, reason: 'no region given: after the placed mirrors' };
    }
    const km = Math.round(greatCircleKm(client, where));
    return { candidate, key: [km, candidate.config.priority], score: km, reason: `${km.toLocaleString('en-US')} km from ${clientRegion} (${candidate.config.region})` };
  });
}
