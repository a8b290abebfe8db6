import semver from 'semver';
import type { MirrorIndex, MirrorIndexEntry, MirrorRankEntry, MirrorsSection, SelectionStrategy } from '../../../../shared/domain/mirrors';
import type { PackageVersionMetadata } from '../../../../shared/domain/registry';
import { DepotError } from '../../../../shared/errors';
import type { RegistryClient } from '../../registry-client/registry-client';
import type { CircuitBreaker } from '../../retry/circuit-breaker';
import { parseDigest } from '../../registry-client/sha256-digest';
import type { SigningPublicKey } from '../../signing/ed25519-keys';
import { fetchVerifiedMirrorIndex } from '../mirror-index';
import { mirrorFileUrl } from '../mirror-layout';
import { originMirrorId, rankMirrors, type MirrorCandidate } from '../mirror-selector';
import type { DownloadSource, MirrorDownloadEvent, MirrorDownloadResult } from './download-types';
import { downloadFromSources } from './multi-source-download';

/** What the health machinery knows of a mirror right now (absent: never checked). */
export interface MirrorLiveState {
  status?: MirrorCandidate['status'];
  latencyMs?: number | null;
  activeTransfers?: number;
}

export interface MirrorPlanRequest {
  name: string;
  /** An exact version (fetched even when yanked) or a semver range (skips yanked versions). */
  range: string;
  section: MirrorsSection;
  /** Keys a mirror's `index.json.minisig` must verify with (the trust store plus `trusted_keys`). */
  trustedKeys: readonly SigningPublicKey[];
  strategy?: SelectionStrategy;
  clientRegion?: string | null;
  /** The registry: its metadata is the expected digest, its download URL the last resort (auto_fallback). */
  registry?: RegistryClient | null;
  live?: ReadonlyMap<string, MirrorLiveState>;
  random?: () => number;
  turn?: number;
  signal?: AbortSignal;
}

/** The version chosen, where its digest came from, and the mirrors in the order they will be tried. */
export interface MirrorPlan {
  name: string;
  version: string;
  sha256: string;
  size: number;
  yanked: boolean;
  /** `registry` (its metadata) or `index:<mirror id>` (that mirror's signed index). */
  digestSource: string;
  ranking: MirrorRankEntry[];
  sources: DownloadSource[];
}

/**
 * Works out what `name@range` is and who should serve it: every enabled mirror's signed index is
 * fetched and verified, the version is resolved (from the registry when there is one, else from the
 * verified indexes), and the mirrors are ranked by the strategy; mirrors whose index lacks that exact
 * blob (or could not be verified) are skipped.
 */
export async function planMirrorDownload(request: MirrorPlanRequest): Promise<MirrorPlan> {
  const { section, signal } = request;
  const enabled = section.list.filter((mirror) => mirror.enabled);
  const indexes = await fetchMirrorIndexes(enabled, request.trustedKeys, signal);

  let chosen: { version: string; sha256: string; size: number; yanked: boolean; digestSource: string };
  if (request.registry) {
    const metadata = await registryMetadata(request.registry, request.name, request.range, signal);
    const sha256 = parseDigest(metadata.digest);
    if (sha256 === null) throw new DepotError('UNAVAILABLE', `The registry gave no sha256 digest for ${metadata.name}@${metadata.version}.`, { reason: 'bad-response' });
    chosen = { version: metadata.version, sha256, size: metadata.size, yanked: metadata.yanked, digestSource: 'registry' };
  } else {
    chosen = resolveFromIndexes(request.name, request.range, indexes);
  }

  const candidates: MirrorCandidate[] = section.list.map((config) => {
    const index = indexes.get(config.id);
    const live = request.live?.get(config.id) ?? {};
    if (index === undefined) return { config, ...live };
    if (index instanceof DepotError) return { config, ...live, indexError: index.message };
    return { config, ...live, hasVersion: findEntry(index, request.name, chosen.version, chosen.sha256) !== null };
  });
  const origin = request.registry ? request.registry.downloadRequest(request.name, chosen.version) : null;
  const ranking = rankMirrors(candidates, {
    strategy: request.strategy ?? section.selection_strategy,
    clientRegion: request.clientRegion ?? section.client_region ?? null,
    random: request.random,
    turn: request.turn,
    origin: origin ? { url: origin.url } : null,
    autoFallback: section.failover.auto_fallback,
  });

  const sources: DownloadSource[] = [];
  for (const entry of ranking) {
    if (!entry.eligible || entry.place === null) continue;
    if (entry.id === originMirrorId && origin) {
      sources.push({ id: originMirrorId, url: origin.url, headers: origin.headers });
      continue;
    }
    const config = section.list.find((mirror) => mirror.id === entry.id);
    const index = indexes.get(entry.id);
    const blob = index && !(index instanceof DepotError) ? findEntry(index, request.name, chosen.version, chosen.sha256) : null;
    if (config && blob) sources.push({ id: config.id, url: mirrorFileUrl(config.url, blob.path).toString() });
  }
  return { name: request.name, ...chosen, ranking, sources };
}

export interface MirrorPullOptions {
  signal?: AbortSignal;
  onEvent?: (event: MirrorDownloadEvent) => void;
  breakers?: Map<string, CircuitBreaker>;
  segmentBytes?: number;
  maxParallelSources?: number;
  fetchImpl?: typeof fetch;
}

/** Downloads a planned version to `destPath` from its ranked sources (see `downloadFromSources`). */
export function pullPlanned(plan: MirrorPlan, section: MirrorsSection, destPath: string, options: MirrorPullOptions = {}): Promise<MirrorDownloadResult> {
  if (plan.sources.length === 0) {
    const why = plan.ranking.map((entry) => `${entry.id}: ${entry.reason}`).join('; ');
    throw new DepotError('UNAVAILABLE', `No mirror can serve ${plan.name}@${plan.version}${why ? ` (${why})` : ''}.`, { reason: 'no-sources' });
  }
  return downloadFromSources(plan.sources, destPath, {
    expected: { sha256: plan.sha256, size: plan.size },
    failover: section.failover,
    ...options,
  });
}

async function registryMetadata(client: RegistryClient, name: string, range: string, signal: AbortSignal | undefined): Promise<PackageVersionMetadata> {
  return semver.valid(range) === range ? client.getVersion(name, range, { signal }) : client.resolve(name, range, { signal });
}

function findEntry(index: MirrorIndex, name: string, version: string, sha256: string): MirrorIndexEntry | null {
  return index.versions.find((entry) => entry.name === name && entry.version === version && `sha256:${entry.sha256}` === sha256) ?? null;
}

/**
 * Without a registry: the newest version matching the range among the verified indexes (yanked ones
 * only when asked for exactly). The index with the highest serial is the authority for its digest.
 */
function resolveFromIndexes(name: string, range: string, indexes: ReadonlyMap<string, MirrorIndex | DepotError>): { version: string; sha256: string; size: number; yanked: boolean; digestSource: string } {
  const exact = semver.valid(range) === range;
  const verified = [...indexes.entries()].filter((pair): pair is [string, MirrorIndex] => !(pair[1] instanceof DepotError)).sort((a, b) => b[1].serial - a[1].serial);
  if (verified.length === 0) {
    const reasons = [...indexes.entries()].map(([id, answer]) => `${id}: ${answer instanceof DepotError ? answer.message : 'ok'}`).join('; ');
    throw new DepotError('UNAVAILABLE', `No mirror has a verified index${reasons ? ` (${reasons})` : ''}; give --registry, or fix trusted_keys.`, { reason: 'no-verified-index' });
  }
  let best: { entry: MirrorIndexEntry; mirror: string } | null = null;
  for (const [mirror, index] of verified) {
    for (const entry of index.versions) {
      if (entry.name !== name || semver.valid(entry.version) === null) continue;
      if (exact ? entry.version !== range : entry.yanked || !semver.satisfies(entry.version, range)) continue;
      if (best === null || semver.gt(entry.version, best.entry.version)) best = { entry, mirror };
    }
  }
  if (best === null) throw new DepotError('NOT_FOUND', `No mirror's index lists ${name}@${range}${exact ? '' : ' (yanked versions skipped)'}.`, { reason: 'version-not-found' });
  return { version: best.entry.version, sha256: `sha256:${best.entry.sha256}`, size: best.entry.size, yanked: best.entry.yanked, digestSource: `index:${best.mirror}` };
}

/** Every mirror's verified index at once; a failure is that mirror's answer (it is skipped), not everyone's. */
async function fetchMirrorIndexes(mirrors: ReadonlyArray<{ id: string; url: string }>, trustedKeys: readonly SigningPublicKey[], signal: AbortSignal | undefined): Promise<Map<string, MirrorIndex | DepotError>> {
  const answers = await Promise.all(
    mirrors.map(async (mirror): Promise<[string, MirrorIndex | DepotError]> => {
      try {
        return [mirror.id, await fetchVerifiedMirrorIndex(mirror.url, trustedKeys, { signal })];
      } catch (error) {
        if (signal?.aborted) throw error;
        return [mirror.id, error instanceof DepotError ? error : new DepotError('UNAVAILABLE', String(error))];
      }
    }),
  );
  return new Map(answers);
}
