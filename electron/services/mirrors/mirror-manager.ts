import {
  mirrorConfigSchema,
  mirrorsSettingsSchema,
  type MirrorConfig,
  type MirrorHealth,
  type MirrorRankEntry,
  type SelectionStrategy,
  type MirrorsSection,
  type MirrorsSettings,
  type MirrorsStats,
  type MirrorSyncResult,
  type MirrorView,
} from '../../../shared/domain/mirrors';
import type { JobHandle, JobRunner } from '../jobs/job-runner';
import type { StorageBackend } from '../storage/storage-backend';
import type { SigningKeyPair } from '../signing/ed25519-keys';
import type { MirrorSource } from './mirror-source';
import { syncMirror } from './mirror-sync';
import { rankMirrors, type MirrorCandidate } from './mirror-selector';
import { fetchVerifiedMirrorIndex, fetchVerifiedMirrorIndexDetailed } from './mirror-index';
import { resolveClientRegion } from '../../../shared/domain/regions';
import { DepotError } from '../../../shared/errors';
import type { MirrorChanges } from '../../../shared/contract/mirrors-channels';
import type { Logger } from '../logger';
import type { SigningPublicKey } from '../signing/ed25519-keys';
import type { RegistryChanges } from '../registry/registry-changes';
import { initialHealth } from '../probes/probe-health';
import type { ProbeHistoryEntry, ProbeRepository } from '../probes/probe-repository';
import type { ProbeInspector, ProbeSettings, ProbeTarget, ProbeWatch, Prober } from '../probes/prober';
import { mirrorIndexFile } from './mirror-layout';
import type { MirrorCounters, MirrorRepository } from './mirror-repository';
import { readTrustedKeys } from './mirror-trust';

/** The probe kind of mirrors in the shared health tables. */
export const mirrorProbeKind = 'mirror';
/** Latencies a view carries for its sparkline. */
const sparklinePoints = 30;

export interface MirrorManagerOptions {
  repository: MirrorRepository;
  probes: ProbeRepository;
  prober: Prober;
  changes: RegistryChanges;
  /** Keys of the trust store (the host's own keys are trusted there); `trusted_keys` entries add to them. */
  trustStoreKeys: () => SigningPublicKey[];
  /** Relative `trusted_keys` paths resolve from here (the config file's folder, or the working folder). */
  baseDir: string;
  /** This registry's HTTP base URL (the origin, last resort of a ranking); null when none serves it. */
  originUrl?: () => string | null;
  /** `TORSH_DEPOT_REGION` of this process. */
  envRegion?: string | null;
  logger: Logger;
  now?: () => Date;
  /** What `mirrors.sync` needs: absent where this core cannot sync (tests of CRUD alone). */
  sync?: MirrorSyncWiring;
}

export interface MirrorSyncWiring {
  jobs: JobRunner;
  source: () => MirrorSource;
  /** The keyring key that signs indexes; throws when there is none. */
  signer: () => SigningKeyPair;
  /** Opens a mirror's `sync_to` storage URL. */
  openTarget: (storageUrl: string, mirrorId: string) => StorageBackend;
  tmpDir: string;
}

const noCounters: MirrorCounters = { downloads: 0, bytes: 0, failures: 0, failovers: 0 };

/**
 * The mirror set (SQLite), its settings, health checks through the shared prober, and traffic counters.
 * Every change is validated whole against the shared schemas before anything is written.
 */
export class MirrorManager {
  private watch: ProbeWatch | null = null;
  private readonly now: () => Date;
  /** Transfers running now per mirror (least-loaded ranks by it; the downloader reports them). */
  private readonly active = new Map<string, number>();
  private syncing: JobHandle<MirrorSyncResult[]> | null = null;
  private publishWatch: NodeJS.Timeout | null = null;
  private rankTurn = 0;

  constructor(private readonly options: MirrorManagerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async list(): Promise<MirrorView[]> {
    const [configs, states, counters] = await Promise.all([this.options.repository.list(), this.options.probes.states(mirrorProbeKind), this.options.repository.counters()]);
    return Promise.all(configs.map((config) => this.view(config, states.get(config.id) ?? initialHealth(), counters.get(config.id) ?? noCounters)));
  }

  async get(id: string): Promise<MirrorView> {
    const config = await this.require(id);
    const [health, counters] = await Promise.all([this.options.probes.state(mirrorProbeKind, id), this.options.repository.counters()]);
    return this.view(config, health, counters.get(id) ?? noCounters);
  }

  async configs(): Promise<MirrorConfig[]> {
    return this.options.repository.list();
  }

  async add(input: MirrorConfig): Promise<MirrorView> {
    const config = parseMirror(input);
    if (await this.options.repository.get(config.id)) throw new DepotError('CONFLICT', `A mirror with id "${config.id}" already exists.`, { reason: 'mirror-exists' });
    await this.options.repository.insert(config);
    this.watch?.refresh();
    return this.get(config.id);
  }

  async update(id: string, changes: MirrorChanges): Promise<MirrorView> {
    const current = await this.require(id);
    const { region, sync_to: syncTo, ...rest } = changes;
    const merged: Record<string, unknown> = { ...current, ...rest };
    if (region !== undefined) merged.region = region ?? undefined;
    if (syncTo !== undefined) merged.sync_to = syncTo ?? undefined;
    for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
    const config = parseMirror(merged);
    await this.options.repository.update(config);
    // A new address is a new server: its old health says nothing about it.
    if (config.url !== current.url) await this.options.probes.forget(mirrorProbeKind, id);
    this.watch?.refresh();
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    await this.require(id);
    await this.options.repository.remove(id);
    await this.options.probes.forget(mirrorProbeKind, id);
    this.active.delete(id);
    this.watch?.refresh();
  }

  async settings(): Promise<MirrorsSettings> {
    return (await this.options.repository.settings()) ?? mirrorsSettingsSchema.parse({});
  }

  /** Saves settings already parsed by the shared schema (parsing twice would read milliseconds as seconds). */
  async setSettings(settings: MirrorsSettings): Promise<MirrorsSettings> {
    readTrustedKeys(settings.trusted_keys, this.options.baseDir);
    await this.options.repository.saveSettings(settings);
    this.watch?.refresh();
    return settings;
  }

  /** The whole `mirrors:` section (config export). */
  async section(): Promise<MirrorsSection> {
    return { ...(await this.settings()), list: await this.options.repository.list() };
  }

  /** Replaces the section (config import, `serve --config`); validated as a whole before anything is written. */
  async replaceSection(section: MirrorsSection): Promise<void> {
    readTrustedKeys(section.trusted_keys, this.options.baseDir);
    const { list, ...settings } = section;
    const configs = list.map(parseMirror);
    await this.options.repository.saveSettings(settings);
    await this.options.repository.replaceAll(configs);
    const kept = new Set(configs.map((config) => config.id));
    for (const id of (await this.options.probes.states(mirrorProbeKind)).keys()) if (!kept.has(id)) await this.options.probes.forget(mirrorProbeKind, id);
    this.watch?.refresh();
  }

  /** The keys an index must be signed with: the trust store's plus the section's `trusted_keys`. */
  async trustedKeys(): Promise<SigningPublicKey[]> {
    const settings = await this.settings();
    return [...this.options.trustStoreKeys(), ...readTrustedKeys(settings.trusted_keys, this.options.baseDir)];
  }

  /** Checks one mirror, or every enabled one, now. */
  async check(id?: string): Promise<MirrorView[]> {
    const configs = id === undefined ? (await this.options.repository.list()).filter((config) => config.enabled) : [await this.require(id)];
    const settings = await this.settings();
    await Promise.all(configs.map((config) => this.options.prober.check(this.target(config), probeSettings(settings), this.inspector())));
    if (id !== undefined) return [await this.get(id)];
    const ids = new Set(configs.map((config) => config.id));
    return (await this.list()).filter((view) => ids.has(view.config.id));
  }

  async history(id: string, limit: number): Promise<ProbeHistoryEntry[]> {
    await this.require(id);
    return this.options.probes.history(mirrorProbeKind, id, limit);
  }

  async stats(): Promise<MirrorsStats> {
    const views = await this.list();
    return {
      total: views.length,
      healthy: views.filter((view) => view.health.status === 'healthy').length,
      registrySerial: await this.options.changes.serial(),
      mirrors: views.map((view) => ({
        id: view.config.id,
        status: view.health.status,
        latencyMs: view.health.latencyMs,
        stalenessVersions: view.health.stalenessVersions,
        stalenessSeconds: view.health.stalenessSeconds,
        lastCheckAt: view.health.lastCheckAt,
        downloads: view.stats.downloads,
        bytes: view.stats.bytes,
        failures: view.stats.failures,
        failovers: view.stats.failovers,
      })),
    };
  }

  /** A download from a mirror finished (or failed, or was handed to another mirror). */
  async recordTransfer(id: string, result: { bytes: number; durationMs: number; ok: boolean; failover?: boolean }): Promise<void> {
    if (!(await this.options.repository.get(id))) return;
    await this.options.repository.addCounters(id, { downloads: result.ok ? 1 : 0, bytes: result.bytes, failures: result.ok ? 0 : 1, failovers: result.failover ? 1 : 0 });
    if (result.ok) await this.options.prober.recordTransfer(mirrorProbeKind, id, result.bytes, result.durationMs);
  }

  /** Marks a transfer from a mirror as started; call the returned function when it ends. */
  beginTransfer(id: string): () => void {
    this.active.set(id, (this.active.get(id) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.active.get(id) ?? 1) - 1;
      if (left <= 0) this.active.delete(id);
      else this.active.set(id, left);
    };
  }

  /**
   * Syncs the chosen mirrors (default: every enabled one with a `sync_to`) from this registry, one job
   * for all of them, one target after the other; progress is bytes copied over bytes to copy.
   */
  async startSync(request: { ids?: string[]; prune: boolean }): Promise<JobHandle<MirrorSyncResult[]>> {
    const wiring = this.options.sync;
    if (!wiring) throw new DepotError('UNAVAILABLE', 'This core cannot sync mirrors.', { reason: 'not-built-yet' });
    const all = await this.options.repository.list();
    const chosen = request.ids === undefined ? all.filter((config) => config.enabled && config.sync_to !== undefined) : await Promise.all(request.ids.map((id) => this.require(id)));
    const missing = chosen.filter((config) => config.sync_to === undefined).map((config) => config.id);
    if (missing.length > 0) throw new DepotError('VALIDATION_FAILED', `Mirror(s) ${missing.join(', ')} have no sync_to storage URL to write to.`, { reason: 'no-sync-target' });
    if (chosen.length === 0) throw new DepotError('VALIDATION_FAILED', 'No mirror has a sync_to storage URL: there is nothing to sync.', { reason: 'no-sync-target' });
    const signer = wiring.signer();
    const targets = chosen.map((config) => ({ id: config.id, target: wiring.openTarget(config.sync_to!, config.id) }));
    const handle = wiring.jobs.start('mirror-sync', `Sync ${targets.length === 1 ? `mirror ${targets[0]!.id}` : `${targets.length} mirrors`}`, { ids: targets.map((entry) => entry.id), prune: request.prune }, async (context) => {
      const results: MirrorSyncResult[] = [];
      for (const [position, { id, target }] of targets.entries()) {
        const result = await syncMirror({
          source: wiring.source(),
          target,
          signer,
          prune: request.prune,
          tmpDir: wiring.tmpDir,
          signal: context.signal,
          onProgress: (done, total, message) => context.reportProgress((position + (total === 0 ? 1 : done / total)) / targets.length, `${id}: ${message}`),
        });
        results.push(result);
      }
      return results;
    });
    this.syncing = handle;
    handle.done.then(
      () => void this.check().catch(() => undefined),
      () => undefined,
    );
    return handle;
  }

  /**
   * With `sync_on_publish`, watches the registry's change serial (publishes, yanks, signatures by any
   * path: UI, HTTP, CLI) and syncs once it rose and no sync is running.
   */
  startSyncOnPublish(pollMs = 2_000): void {
    if (this.publishWatch || !this.options.sync) return;
    let seen: number | null = null;
    const tick = async (): Promise<void> => {
      const serial = await this.options.changes.serial();
      if (seen === null) seen = serial;
      if (serial === seen || !(await this.settings()).sync_on_publish) return;
      if (this.syncing && !(await settled(this.syncing.done))) return;
      const hasTargets = (await this.options.repository.list()).some((config) => config.enabled && config.sync_to !== undefined);
      seen = serial;
      if (hasTargets) await this.startSync({ prune: false });
    };
    this.publishWatch = setInterval(() => void tick().catch((error: unknown) => this.options.logger.warn(`sync on publish: ${(error as Error).message}`)), pollMs);
    this.publishWatch.unref();
  }

  /**
   * Who would serve name@version to a client (in `region`): every mirror's signed index is fetched to
   * see whether it holds the version; health, latency and load come from the probes; the origin is last.
   */
  async rank(request: { name: string; version: string; region?: string; strategy?: SelectionStrategy }): Promise<MirrorRankEntry[]> {
    const [views, settings, keys] = await Promise.all([this.list(), this.settings(), this.trustedKeys().catch(() => [])]);
    const candidates: MirrorCandidate[] = await Promise.all(
      views.map(async (view): Promise<MirrorCandidate> => {
        const base: MirrorCandidate = { config: view.config, status: view.health.status, latencyMs: view.health.latencyMs, activeTransfers: view.stats.activeTransfers };
        if (!view.config.enabled || view.health.status === 'unhealthy') return base;
        try {
          const index = await fetchVerifiedMirrorIndex(view.config.url, keys, { timeoutMs: settings.health.timeout });
          return { ...base, hasVersion: index.versions.some((entry) => entry.name === request.name && entry.version === request.version) };
        } catch (error) {
          return { ...base, indexError: (error as Error).message };
        }
      }),
    );
    const origin = this.options.originUrl?.() ?? null;
    return rankMirrors(candidates, {
      strategy: request.strategy ?? settings.selection_strategy,
      clientRegion: resolveClientRegion({ flag: request.region ?? null, env: this.options.envRegion ?? null, config: settings.client_region ?? null }),
      turn: this.rankTurn++,
      origin: origin === null ? null : { url: `${origin}/api/v1/packages/${request.name}/${encodeURIComponent(request.version)}/download` },
      autoFallback: settings.failover.auto_fallback,
    });
  }

  /** Starts the periodic, jittered health checks of every enabled mirror. */
  startHealthChecks(): void {
    if (this.watch) return;
    this.watch = this.options.prober.watch(async () => {
      const [configs, settings] = await Promise.all([this.options.repository.list(), this.settings()]);
      return { targets: configs.filter((config) => config.enabled).map((config) => this.target(config)), settings: probeSettings(settings) };
    }, this.inspector());
  }

  stopHealthChecks(): void {
    this.watch?.stop();
    this.watch = null;
    if (this.publishWatch) clearInterval(this.publishWatch);
    this.publishWatch = null;
  }

  private target(config: MirrorConfig): ProbeTarget {
    return { kind: mirrorProbeKind, id: config.id, url: config.url, probePath: mirrorIndexFile };
  }

  /** A mirror is good when its signed index verifies; it is Degraded when that index is behind the registry. */
  private inspector(): ProbeInspector {
    return async (target, { timeoutMs, signal }) => {
      const keys = await this.trustedKeys();
      const fetched = await fetchVerifiedMirrorIndexDetailed(target.url, keys, { timeoutMs, signal });
      const lag = await this.options.changes.lagSince(fetched.index.serial);
      const stalenessSeconds = lag.oldestMissedAt === null ? 0 : Math.max(0, (this.now().getTime() - Date.parse(lag.oldestMissedAt)) / 1000);
      return {
        latencyMs: fetched.latencyMs,
        tlsExpiresAt: fetched.tlsExpiresAt,
        stalenessVersions: lag.changesBehind,
        stalenessSeconds,
        degradedBy: lag.changesBehind > 0 ? `index at serial ${fetched.index.serial}, ${lag.changesBehind} change(s) behind the registry (serial ${lag.serial})` : null,
      };
    };
  }

  private async view(config: MirrorConfig, health: MirrorHealth, counters: MirrorCounters): Promise<MirrorView> {
    const history = await this.options.probes.history(mirrorProbeKind, config.id, sparklinePoints);
    return {
      config,
      health,
      stats: { id: config.id, ...counters, activeTransfers: this.active.get(config.id) ?? 0 },
      latencyHistory: history.map((entry) => entry.latencyMs),
    };
  }

  private async require(id: string): Promise<MirrorConfig> {
    const config = await this.options.repository.get(id);
    if (!config) throw new DepotError('NOT_FOUND', `No mirror with id "${id}".`, { reason: 'no-such-mirror' });
    return config;
  }
}

async function settled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const winner = await Promise.race([promise.then(() => true, () => true), Promise.resolve(marker)]);
  return winner !== marker;
}

function parseMirror(input: unknown): MirrorConfig {
  const parsed = mirrorConfigSchema.safeParse(input);
  if (!parsed.success) {
    const bad = parsed.error.issues.find((issue) => issue.path[0] === 'url');
    throw new DepotError('VALIDATION_FAILED', `Invalid mirror: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`, {
      reason: bad ? 'bad-mirror-url' : 'bad-mirror',
    });
  }
  return parsed.data;
}

export function probeSettings(settings: MirrorsSettings): ProbeSettings {
  return {
    intervalMs: settings.health_check_interval,
    timeoutMs: settings.health.timeout,
    thresholds: { failuresToDown: settings.health.failures_to_down, successesToUp: settings.health.successes_to_up, degradedLatencyMs: settings.health.degraded_latency },
  };
}
