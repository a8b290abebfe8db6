import path from 'node:path';
import {
  cdnSecretReferences,
  cdnSectionSchema,
  writeCdnSection,
  type BestUrlAnswer,
  type CacheOutcome,
  type CdnClientTransfers,
  type CdnConfigView,
  type CdnEdgeView,
  type CdnPurgeRequest,
  type CdnSection,
  type CdnSectionInput,
  type CdnStatsAnswer,
  type PurgeReport,
} from '../../../shared/domain/cdn';
import type { JobRecord } from '../../../shared/domain/jobs';
import type { FailoverConfig } from '../../../shared/domain/mirrors';
import { DepotError } from '../../../shared/errors';
import type { JobRunner } from '../jobs/job-runner';
import type { Logger } from '../logger';
import type { ProbeRepository } from '../probes/probe-repository';
import type { Prober, ProbeWatch } from '../probes/prober';
import type { StorageBackend } from '../storage/storage-backend';
import { cacheOutcomeOf } from './cache-outcome';
import type { CdnConfigRepository } from './cdn-config-repository';
import { CdnEdgeMonitor } from './cdn-edge-monitor';
import type { CdnMetrics } from './cdn-metrics';
import { assertMayUpload, uploadToOrigin, type CdnPackageSource, type CdnUploadResult } from './cdn-origin';
import { createCdnProvider } from './cdn-provider-factory';
import { packagePurgeTarget, runPurge } from './cdn-purger';
import type { CdnStatsRepository } from './cdn-stats-repository';
import { ClientRegionResolver, type GeoIpLookup } from './client-region';
import { rankEdges } from './edge-selector';
import { openGeoIpDatabase } from './geoip-database';
import type { CdnProvider } from './providers/cdn-provider';
import { decideRoute, edgeObjectPath, type RouteDecision } from './route-decision';
import { downloadViaEdges, type EdgeDownloadResult } from './cdn-download';
import type { DownloadSource, ExpectedBlob, MirrorDownloadEvent, MultiSourceOptions } from '../mirrors/download/download-types';

export interface CdnServiceOptions {
  repository: CdnConfigRepository;
  stats: CdnStatsRepository;
  prober: Prober;
  probes: ProbeRepository;
  jobs: JobRunner;
  logger: Logger;
  metrics: CdnMetrics;
  /** Opens the origin's storage URL (through the storage manager: retries, stats, compatibility settings). */
  openOrigin: (storageUrl: string) => StorageBackend;
  /** This registry, for `upload`. */
  packageSource: () => CdnPackageSource;
  /** `${ENV}` / `file:` → the secret; `baseDir` is where relative `file:` paths start. */
  resolveSecret: (reference: string, baseDir: string) => Promise<string>;
  /** The registry's own base URL (hybrid routing's small-package answer). */
  registryUrl: () => string | null;
  /** The best mirror's URL of a version, for the fallback when no edge is eligible. */
  mirrorUrl?: (name: string, version: string, region: string | null) => Promise<string | null>;
  /** The mirrors' failover settings (retries, stall timeout, minimum rate): edge downloads use the same downloader. */
  failover?: () => Promise<FailoverConfig>;
  /** Where relative paths (secret files, the MaxMind file) of a section set without a file start. */
  baseDir: string;
  clock?: () => number;
}

/** A transfer through an edge, as the downloader saw it. */
export interface EdgeTransfer {
  edgeId: string;
  name: string;
  version: string;
  headers: Headers | Record<string, string | string[] | undefined>;
  bytes: number;
  durationMs?: number;
}

const loadWindowMs = 60_000;

/**
 * The CDN capability: owns the configured section (persisted; from `depot.yaml`'s `cdn:` or the
 * screen), the edge monitor on the shared probes, the purger, the origin uploads, best-edge choice,
 * hybrid routing and the statistics. Nothing here is configured until a section is set.
 */
export class CdnService {
  private current: CdnSection | null = null;
  private baseDir: string;
  private geoIp: GeoIpLookup | null = null;
  private provider: Promise<CdnProvider> | null = null;
  private watch: ProbeWatch | null = null;
  private watching = false;
  private readonly ready: Promise<void>;
  readonly monitor: CdnEdgeMonitor;
  readonly metrics: CdnMetrics;

  constructor(private readonly options: CdnServiceOptions) {
    this.baseDir = options.baseDir;
    this.metrics = options.metrics;
    this.monitor = new CdnEdgeMonitor(options.prober, options.probes, () => this.current);
    this.ready = options.repository.get().then(
      (section) => this.adopt(section).catch((error: unknown) => options.logger.warn(`cdn: ${(error as Error).message}`)),
      (error: unknown) => options.logger.error('cdn: the stored configuration could not be read', error),
    );
  }

  /** The section in force, or null. */
  async section(): Promise<CdnSection | null> {
    await this.ready;
    return this.current;
  }

  private async require(): Promise<CdnSection> {
    const section = await this.section();
    if (!section) throw new DepotError('NOT_FOUND', 'No CDN is configured: set the cdn: section of depot.yaml or fill in the CDN screen.', { reason: 'cdn-not-configured' });
    return section;
  }

  /** The configuration as written, with every secret reference masked and whether it resolves. */
  async configView(): Promise<CdnConfigView> {
    const section = await this.section();
    if (!section) return { configured: false, config: null, secrets: [] };
    const secrets = await Promise.all(
      cdnSecretReferences(section).map(async ({ path: field, reference }) => {
        let problem: string | null = null;
        try {
          await this.options.resolveSecret(reference, this.baseDir);
        } catch (error) {
          problem = (error as Error).message;
        }
        return { path: field, reference, masked: maskReference(reference), resolved: problem === null, problem };
      }),
    );
    return { configured: true, config: writeCdnSection(section) as Record<string, unknown>, secrets };
  }

  /**
   * Replaces the section (null removes the CDN), given as written (durations as text: a parsed
   * section goes through `writeCdnSection` first). Checked whole first: schema, every secret
   * reference resolves, the MaxMind file opens — a bad section changes nothing.
   */
  async replaceSection(input: CdnSectionInput | null, baseDir: string = this.options.baseDir): Promise<CdnSection | null> {
    await this.ready;
    if (input === null) {
      await this.options.repository.save(null);
      await this.adopt(null);
      return null;
    }
    const parsed = cdnSectionSchema.safeParse(input);
    if (!parsed.success) {
      throw new DepotError('VALIDATION_FAILED', parsed.error.issues.map((issue) => `cdn.${issue.path.join('.')}: ${issue.message}`).join('; '), { reason: 'config-invalid' });
    }
    const section = resolvePaths(parsed.data, baseDir);
    for (const { path: field, reference } of cdnSecretReferences(section)) {
      try {
        await this.options.resolveSecret(reference, baseDir);
      } catch (error) {
        throw new DepotError('VALIDATION_FAILED', `cdn.${field}: ${(error as Error).message}`, { reason: 'secret-missing' });
      }
    }
    const geoIp = section.geo.maxmind_db ? await openGeoIpDatabase(section.geo.maxmind_db) : null;
    // Throws on a bad CIDR block before anything is kept.
    this.resolverFor(section, geoIp);
    await this.options.repository.save(section);
    this.baseDir = baseDir;
    this.current = section;
    this.geoIp = geoIp;
    this.provider = null;
    this.restartWatch();
    return section;
  }

  private async adopt(section: CdnSection | null): Promise<void> {
    this.current = section;
    this.provider = null;
    this.geoIp = section?.geo.maxmind_db ? await openGeoIpDatabase(section.geo.maxmind_db) : null;
    this.restartWatch();
  }

  /** Probes the edges on the section's interval (shells call this once they serve). */
  startHealthChecks(): void {
    this.watching = true;
    this.restartWatch();
  }

  stopHealthChecks(): void {
    this.watching = false;
    this.watch?.stop();
    this.watch = null;
  }

  private restartWatch(): void {
    this.watch?.stop();
    this.watch = this.watching && this.current && this.current.edges.length > 0 ? this.monitor.watch() : null;
  }

  /** Probes every enabled edge now. */
  async checkEdges(): Promise<CdnEdgeView[]> {
    await this.require();
    await this.monitor.checkAll();
    return this.edges();
  }

  /** Each edge with its probe health, load (our transfer counts over the last minute) and hit rate. */
  async edges(): Promise<CdnEdgeView[]> {
    const section = await this.section();
    if (!section) return [];
    const now = this.now();
    const [states, recent, all] = await Promise.all([
      this.options.probes.states('cdn-edge'),
      this.options.stats.query(new Date(now - loadWindowMs), new Date(now + 1), 60),
      this.options.stats.query(new Date(0), new Date(now + 1), 86_400),
    ]);
    return section.edges.map((edge) => {
      const health = states.get(edge.id);
      const lastMinute = recent.byEdge.find((entry) => entry.edgeId === edge.id);
      const totals = all.byEdge.find((entry) => entry.edgeId === edge.id);
      return {
        id: edge.id,
        region: edge.region,
        endpoint: edge.endpoint,
        capacityGbps: edge.capacity_gbps,
        enabled: edge.enabled,
        status: health?.status ?? 'unknown',
        latencyMs: health?.latencyMs ?? null,
        throughputBytesPerSec: health?.throughputBytesPerSec ?? null,
        lastCheckAt: health?.lastCheckAt ?? null,
        lastError: health?.lastError ?? null,
        load: loadOf(lastMinute ? lastMinute.edgeBytes + lastMinute.originBytes : 0, edge.capacity_gbps),
        hitRate: totals?.hitRate ?? null,
        hits: totals?.hits ?? 0,
        misses: totals?.misses ?? 0,
        edgeBytes: totals?.edgeBytes ?? 0,
        originBytes: totals?.originBytes ?? 0,
      };
    });
  }

  private resolverFor(section: CdnSection, geoIp: GeoIpLookup | null): ClientRegionResolver {
    return new ClientRegionResolver(section.geo.cidr_regions, geoIp);
  }

  private async loads(): Promise<Map<string, number>> {
    return new Map((await this.edges()).map((edge) => [edge.id, edge.load]));
  }

  /** The edge for a client (by `client_ip` through the CIDR table and the MaxMind file, or by `region`), every score part shown. */
  async bestUrl(request: { name: string; version: string; clientIp?: string | null; region?: string | null }): Promise<BestUrlAnswer> {
    const section = await this.require();
    const client = this.resolverFor(section, this.geoIp).resolve({ region: request.region ?? null, clientIp: request.clientIp ?? null });
    const ranking = rankEdges(await this.monitor.candidates(await this.loads()), client.region);
    const best = ranking.find((entry) => entry.eligible) ?? null;
    return {
      name: request.name,
      version: request.version,
      clientRegion: client.region,
      regionSource: client.source,
      url: best ? `${best.url.replace(/\/+$/, '')}${edgeObjectPath(section, request.name, request.version)}` : null,
      edgeId: best?.edgeId ?? null,
      ranking,
    };
  }

  /**
   * The hybrid routing answer for a download (`?route=auto`): null when no CDN is configured (the
   * registry answers as always), else where to send the client and why.
   */
  async route(request: { name: string; version: string; size: number; clientIp?: string | null; region?: string | null }): Promise<RouteDecision | null> {
    const section = await this.section();
    if (!section) return null;
    const registryBase = this.options.registryUrl();
    const registryUrl = `${registryBase ?? ''}/api/v1/packages/${request.name.split('/').map(encodeURIComponent).join('/')}/${encodeURIComponent(request.version)}/download`;
    const best = await this.bestUrl(request);
    const needsMirror = section.routing.mode !== 'registry' && (section.routing.mode === 'cdn' || request.size >= section.routing.min_size) && best.edgeId === null;
    const mirrorUrl = needsMirror && section.routing.mirrors_fallback && this.options.mirrorUrl ? await this.options.mirrorUrl(request.name, request.version, best.clientRegion).catch(() => null) : null;
    return decideRoute({ section, name: request.name, version: request.version, size: request.size, ranking: best.ranking, registryUrl, mirrorUrl });
  }

  private providerFor(section: CdnSection): Promise<CdnProvider> {
    const baseDir = this.baseDir;
    this.provider ??= createCdnProvider(section, (reference) => this.options.resolveSecret(reference, baseDir));
    // A failed build (a secret gone missing) is retried next time, not cached.
    this.provider.catch(() => (this.provider = null));
    return this.provider;
  }

  /** Purges a package (its surrogate key and object URLs), URLs and tags; a result per URL and tag. */
  async purge(request: CdnPurgeRequest, signal?: AbortSignal): Promise<PurgeReport> {
    const section = await this.require();
    let target = { urls: [...request.urls], tags: [...request.tags], soft: request.soft };
    if (request.package !== undefined) {
      const forPackage = packagePurgeTarget(section, request.package, request.version, request.soft);
      target = { urls: [...target.urls, ...forPackage.urls], tags: [...target.tags, ...forPackage.tags], soft: request.soft };
    }
    const provider = await this.providerFor(section);
    return runPurge(provider, target, { retry: section.retry, logger: this.options.logger, ...(signal ? { signal } : {}) });
  }

  /** Puts a version (blob, signature, index) on the origin as a job; private versions are refused on a public origin. */
  async startUpload(name: string, version: string): Promise<{ record: JobRecord; done: Promise<CdnUploadResult> }> {
    const section = await this.require();
    if (section.origin.storage === 'registry') throw new DepotError('VALIDATION_FAILED', 'cdn.origin.storage is "registry": serve is the origin, there is nothing to upload.', { reason: 'origin-is-registry' });
    const source = this.options.packageSource();
    // Refused before a job exists: the caller sees the reason at once.
    const described = await source.describe(name, version);
    assertMayUpload(section, name, version, described.visibility);
    const origin = this.options.openOrigin(section.origin.storage);
    const handle = this.options.jobs.start('cdn-upload', `CDN upload ${name}@${version}`, { name, version }, (context) =>
      uploadToOrigin(source, origin, section, name, version, {
        signal: context.signal,
        onProgress: (bytes) => context.reportProgress(described.size > 0 ? Math.min(1, bytes / described.size) : null),
      }),
    );
    return { record: handle.record, done: handle.done };
  }

  /** Counts one transfer through an edge (hit/miss from its headers) in the statistics, the metrics and its throughput. */
  async recordTransfer(transfer: EdgeTransfer): Promise<CacheOutcome> {
    const outcome = cacheOutcomeOf(transfer.headers);
    await this.recordOutcome(transfer, outcome);
    return outcome;
  }

  /**
   * Transfers a client made through edges and reported back (`pull` through the CDN): counted like
   * our own, with the verdict the edge gave the client. Unknown edges are refused, nothing counted.
   */
  async recordClientTransfers(transfers: CdnClientTransfers['transfers']): Promise<number> {
    const section = await this.require();
    const known = new Set(section.edges.map((edge) => edge.id));
    const unknown = transfers.find((transfer) => !known.has(transfer.edge_id));
    if (unknown) throw new DepotError('VALIDATION_FAILED', `No edge "${unknown.edge_id.slice(0, 128)}" in cdn.edges.`, { reason: 'unknown-edge' });
    for (const transfer of transfers) {
      await this.recordOutcome({ edgeId: transfer.edge_id, name: transfer.name, version: transfer.version, bytes: transfer.bytes, durationMs: transfer.duration_ms }, transfer.cache);
    }
    return transfers.length;
  }

  private async recordOutcome(transfer: Omit<EdgeTransfer, 'headers'>, outcome: CacheOutcome): Promise<void> {
    await this.options.stats.record({ at: new Date(this.now()), edgeId: transfer.edgeId, name: transfer.name, version: transfer.version, outcome, bytes: transfer.bytes });
    this.options.metrics.recordTransfer(transfer.edgeId, outcome, transfer.bytes);
    if (transfer.durationMs !== undefined && transfer.durationMs > 0) await this.monitor.recordTransfer(transfer.edgeId, transfer.bytes, transfer.durationMs);
  }

  /**
   * Downloads a version through the best edges for this client with the mirrors' failover downloader
   * (the next edge resumes with Range when one dies), the registry last; digest verified; each edge
   * used is counted in the statistics with its cache verdict.
   */
  async download(
    request: { name: string; version: string; expected: ExpectedBlob; destPath: string; clientIp?: string | null; region?: string | null; registry?: DownloadSource },
    options: { signal?: AbortSignal; onEvent?: (event: MirrorDownloadEvent) => void; onResponse?: MultiSourceOptions['onResponse'] } = {},
  ): Promise<EdgeDownloadResult> {
    const section = await this.require();
    const answer = await this.bestUrl(request);
    const result = await downloadViaEdges(request.destPath, {
      section,
      answer,
      expected: request.expected,
      ...(this.options.failover ? { failover: await this.options.failover() } : {}),
      ...(request.registry ? { registry: request.registry } : {}),
      ...options,
    });
    for (const usage of result.mirrors) {
      if (usage.bytes === 0 || !section.edges.some((edge) => edge.id === usage.id)) continue;
      await this.recordOutcome({ edgeId: usage.id, name: request.name, version: request.version, bytes: usage.bytes, durationMs: result.durationMs }, result.outcomes.get(usage.id) ?? 'unknown');
    }
    return result;
  }

  /** Our statistics over a range, with the provider's analytics next to them when configured. */
  async stats(request: { since?: Date; until?: Date; bucketSeconds?: number } = {}): Promise<CdnStatsAnswer> {
    const until = request.until ?? new Date(this.now());
    const since = request.since ?? new Date(until.getTime() - 86_400_000);
    if (since.getTime() >= until.getTime()) throw new DepotError('VALIDATION_FAILED', 'since must be before until.');
    const ours = await this.options.stats.query(since, until, request.bucketSeconds ?? 3600);
    const section = await this.section();
    if (!section || !(section.provider === 'cloudflare' && section.cloudflare?.analytics)) return { ...ours, provider: null, providerError: null };
    try {
      const provider = await this.providerFor(section);
      if (!provider.analytics) return { ...ours, provider: null, providerError: null };
      const analytics = await provider.analytics(since, until, { retry: section.retry, counter: { apiCalls: 0, retries: 0 } });
      return { ...ours, provider: analytics, providerError: null };
    } catch (error) {
      return { ...ours, provider: null, providerError: (error as Error).message };
    }
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  close(): void {
    this.stopHealthChecks();
  }
}

/** `${CF_API_TOKEN}` → `${CF_…}`; `file:/etc/depot/cf-token` → `file:…/cf-token`: enough to recognize, never the secret. */
export function maskReference(reference: string): string {
  const variable = /^\$\{([A-Za-z0-9_]+)\}$/.exec(reference);
  if (variable?.[1]) return `\${${variable[1]}} ••••••••`;
  return `file:…/${path.basename(reference.slice('file:'.length))} ••••••••`;
}

/**
 * Relative paths (the MaxMind file, `file:` secrets) are relative to the config file, not to wherever
 * the host was started: made absolute before the section is kept.
 */
function resolvePaths(section: CdnSection, baseDir: string): CdnSection {
  const file = <T extends string | undefined>(reference: T): T => (reference?.startsWith('file:') ? (`file:${path.resolve(baseDir, reference.slice(5))}` as T) : reference);
  const db = section.geo.maxmind_db;
  return {
    ...section,
    ...(section.cloudflare ? { cloudflare: { ...section.cloudflare, api_token: file(section.cloudflare.api_token), token_auth_secret: file(section.cloudflare.token_auth_secret) } } : {}),
    ...(section.cloudfront
      ? { cloudfront: { ...section.cloudfront, access_key_id: file(section.cloudfront.access_key_id), secret_access_key: file(section.cloudfront.secret_access_key), private_key: file(section.cloudfront.private_key) } }
      : {}),
    ...(section.fastly ? { fastly: { ...section.fastly, api_key: file(section.fastly.api_key) } } : {}),
    http_purge: { ...section.http_purge, purge_token: file(section.http_purge.purge_token) },
    geo: { ...section.geo, ...(db === undefined ? {} : { maxmind_db: path.resolve(baseDir, db) }) },
  };
}

/** Bytes through an edge over the last minute as a fraction of its capacity. */
function loadOf(bytes: number, capacityGbps: number): number {
  const bitsPerSecond = (bytes * 8) / (loadWindowMs / 1000);
  return Math.min(1, Math.round((bitsPerSecond / (capacityGbps * 1e9)) * 1e6) / 1e6);
}
