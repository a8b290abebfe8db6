import { mkdirSync, promises as fsp, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { DataFolderCheckResult } from '../../shared/domain/jobs';
import type { BlobGcRequest, BlobGcResult } from '../../shared/domain/storage';
import type { Health } from '../../shared/domain/health';
import { openDatabase } from './database/open-database';
import { migrations as allMigrations } from './database/migrations';
import type { Migration } from './database/migration';
import { EventBus } from './events/event-bus';
import { SettingsService } from './settings/settings-service';
import { JsonFileSettingsBackend, type SettingsBackend } from './settings/settings-backend';
import { FileSecretStore, type SecretStore } from './secrets/secret-store';
import { JobRepository } from './jobs/job-repository';
import { JobRunner, type JobHandle } from './jobs/job-runner';
import { runDataFolderCheck } from './jobs/data-folder-check';
import { HealthService } from './health/health-service';
import { RequestRouter } from './rpc/request-router';
import { createRequestHandlers } from './rpc/request-handlers';
import { createConsoleLogger, type Logger } from './logger';
import { acquireDataDirLock } from './fs/data-dir-lock';
import { LocalStorage } from './storage/local-storage';
import type { StorageBackend } from './storage/storage-backend';
import { BlobStore } from './blobs/blob-store';
import { BlobsInFlight } from './blobs/blobs-in-flight';
import { BlobGarbageCollector } from './blobs/blob-garbage-collector';
import { RegistryRepository } from './registry/registry-repository';
import { RegistryService } from './registry/registry-service';
import { AccessRepository } from './access/access-repository';
import { AccessControl } from './access/access-control';
import { FailedAuthLimiter } from './access/failed-auth-limiter';
import { RegistryAuthorizer } from './registry/registry-authorizer';
import { StagingArea } from './registry/staging-area';
import { StagedFolders } from './registry/staged-folders';
import { PreparedDownloads } from './registry/prepared-downloads';
import { PackageCache } from './cache/package-cache';
import { RegistryDirectory } from './registries/registry-directory';
import { RegistryClient, normalizeRegistryUrl } from './registry-client/registry-client';
import { appVersion } from './version';
import { MetricsService } from './metrics/metrics-service';
import { TrustStore } from './signing/trust-store';
import { SigningKeyring } from './signing/signing-keyring';
import { RegistrySignatures } from './registry/registry-signatures';
import { StorageManager, builtInBackendId } from './storage/storage-manager';
import type { StorageLocation } from './storage/storage-factory';
import { PackageEncryptor, type EncryptorTuning } from './encryption/package-encryptor';
import { ReplicationService } from './replication/replication-service';
import { replicationRegistryId } from './replication/registry-identity';
import { restoreBlob } from './replication/restore-blob';
import { replicationSectionSchema, type ReplicationSectionInput } from '../../shared/domain/replication';
import { MirrorManager, mirrorProbeKind } from './mirrors/mirror-manager';
import { LocalRegistrySource } from './mirrors/mirror-source';
import { parseBlobStoreUrl } from './storage/blob-store-url';
import { DepotError } from '../../shared/errors';
import { SqliteMirrorRepository } from './mirrors/mirror-repository';
import { Prober } from './probes/prober';
import { SqliteProbeRepository } from './probes/probe-repository';
import { RegistryChanges } from './registry/registry-changes';
import { createCdnService, cdnEdgeProbeKind, type CdnService } from './cdn/cdn-wiring';
import { BackupService } from './backup/backup-service';
import { SqliteBackupStateRepository } from './backup/backup-state-repository';
import { CronScheduler, SqliteScheduleStateStore } from './jobs/cron-scheduler';
import { resolveSecretReference } from './secrets/secret-reference';

export interface ShellDialogs {
  chooseFolder(title: string): Promise<string | null>;
}

export interface CoreOptions {
  dataDir: string;
  shell: Health['shell'];
  /** Desktop: electron-store. Default: `settings.json` in the data folder, written atomically. */
  settingsBackend?: SettingsBackend;
  /** Desktop: safeStorage-sealed. Default: a 0600 `secrets.json` in the data folder. */
  secretStore?: SecretStore;
  logger?: Logger;
  /** Tests pass extra migrations to exercise failures; production uses the product list. */
  migrations?: readonly Migration[];
  maxConcurrentJobs?: number;
  /** Native dialogs the shell offers (desktop); headless hosts have none. */
  dialogs?: ShellDialogs;
  /** Where package blobs live; default: the data folder (`<dataDir>/blobs/sha256/…`). */
  blobStorage?: StorageBackend;
  /** Tests pass a fake clock and turn the metrics timers off. */
  metrics?: { clock?: () => number; flushIntervalMs?: number; evaluationIntervalMs?: number; retentionIntervalMs?: number };
  /** Failed authentications per address before 429 (default 20 a minute); tests lower it. */
  failedAuthLimit?: { maxFailures: number; windowMs: number };
  /** `serve --blob-store <url>`: the registry's blobs on this backend instead of the setting's choice. */
  blobStoreLocation?: StorageLocation;
  /** KDF cost of encrypt-on-publish; tests lower it (the format is under test, not the work factor). */
  encryptorTuning?: EncryptorTuning;
  /** The `replication:` section of `depot.yaml` (nodes, replication factor, rules, consistency). */
  replication?: ReplicationSectionInput;
}

export interface Core {
  readonly dataDir: string;
  readonly db: Database;
  readonly events: EventBus;
  readonly settings: SettingsService;
  readonly secrets: SecretStore;
  readonly jobs: JobRunner;
  readonly health: HealthService;
  readonly router: RequestRouter;
  readonly logger: Logger;
  readonly blobs: BlobStore;
  readonly registry: RegistryService;
  /** Encrypts on publish and decrypts on download. */
  readonly encryptor: PackageEncryptor;
  /** Users, roles, grants, keys, package visibility and owners, audit: every permission decision. */
  readonly access: AccessControl;
  readonly authorizer: RegistryAuthorizer;
  readonly staging: StagingArea;
  /** Versions saved on the host for a browser to fetch once (decrypted downloads in the web UI). */
  readonly preparedDownloads: PreparedDownloads;
  /** Folders dropped for packing (browser uploads or desktop paths) before they become staged packages. */
  readonly stagedFolders: StagedFolders;
  /** Packages pulled from registries: content-addressed, capped, LRU-evicted, offline-capable. */
  readonly cache: PackageCache;
  /** Registries configured in Settings (keys in the secret store). */
  readonly registries: RegistryDirectory;
  /** Storage backends (local, S3, Azure, GCS): retries, stats, multi-cloud copies. */
  readonly storage: StorageManager;
  /** The HTTP base URL of the registry, once a shell serves it (null in a desktop app without a server). */
  readonly registryEndpoint: { url(): string | null; set(url: string | null): void };
  /** Publisher keys this install trusts (registry `trusted` flags, download signature policies). */
  readonly trust: TrustStore;
  /** This install's own signing keys (secrets in the secret store). */
  readonly keyring: SigningKeyring;
  readonly dialogs: ShellDialogs | null;
  /** Monitoring: the collector every service records through, time series, reports, alert rules. */
  readonly metrics: MetricsService;
  /** Copies of each version on replication nodes (none until a section or nodes are configured). */
  readonly replication: ReplicationService;
  /** Scratch space inside the data folder for temp files; emptied at every start. */
  readonly tmpDir: string;
  /** The one health machinery (mirrors now; CDN edges and replication nodes use it too). */
  readonly prober: Prober;
  /** The registry's change serial (mirror indexes carry it; staleness is measured against it). */
  readonly registryChanges: RegistryChanges;
  /** Mirrors: the set, its settings, health checks, traffic counters. Shells start the checks. */
  readonly mirrors: MirrorManager;
  /** CDN: the configured section, edge probes, purges, origin uploads, best edge, routing, statistics. */
  readonly cdn: CdnService;
  /** Cron schedules that survive restarts (backups and verifies now; replication rules later). */
  readonly scheduler: CronScheduler;
  /** Backup repositories, backup/verify/prune/restore jobs, schedules, recovery points. */
  readonly backups: BackupService;
  /** Runs the cron schedules (backups, verifies). Long-lived shells only: a one-shot CLI never fires a missed slot. */
  startSchedules(): void;
  startDataFolderCheck(sizeMiB: number): JobHandle<DataFolderCheckResult>;
  /** Removes blobs no version references (a job; shells run it at start-up, the Storage screen and `gc` on demand). */
  startBlobGc(request: BlobGcRequest): JobHandle<BlobGcResult>;
  close(): Promise<void>;
}

/** The one place services are built and wired, for every shell (desktop, headless host, CLI, tests). */
export function createCore(options: CoreOptions): Core {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireDataDirLock(dataDir);
  const tmpDir = path.join(dataDir, 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  const logger = options.logger ?? createConsoleLogger();
  // Leftovers of a crash (half-written temp files) are never valid data; sweep before any job runs.
  sweepTempDir(tmpDir, logger);
  const databaseFile = path.join(dataDir, 'torsh-depot.sqlite');
  let db: Database;
  try {
    db = openDatabase(databaseFile, options.migrations ?? allMigrations);
  } catch (error) {
    lock.release();
    throw error;
  }

  const events = new EventBus();
  const settings = new SettingsService(options.settingsBackend ?? new JsonFileSettingsBackend(path.join(dataDir, 'settings.json')));
  const secrets = options.secretStore ?? new FileSecretStore(path.join(dataDir, 'secrets.json'));
  const jobs = new JobRunner({
    repository: new JobRepository(db),
    events,
    logger,
    maxConcurrent: options.maxConcurrentJobs ?? 2,
    historyLimit: () => settings.get().jobHistoryLimit,
  });
  const storage = new StorageManager({ db, settings, secrets, logger, builtIn: new LocalStorage(dataDir) });
  let blobStorage: StorageBackend;
  try {
    blobStorage = options.blobStorage ?? chooseBlobStorage(storage, options.blobStoreLocation, settings.get().storage.blobStoreBackendId);
  } catch (error) {
    db.close();
    lock.release();
    throw error;
  }
  const blobs = new BlobStore(blobStorage, { verifyOnRead: () => settings.get().registry.verifyOnRead });
  const trust = new TrustStore(db);
  const keyring = new SigningKeyring(secrets, trust);
  const access = new AccessControl({ repository: new AccessRepository(db), ...(options.failedAuthLimit ? { limiter: new FailedAuthLimiter(options.failedAuthLimit) } : {}) });
  access.ensureLocalUser();
  const encryptor = new PackageEncryptor(options.encryptorTuning);
  const registryRepository = new RegistryRepository(db);
  let replication: ReplicationService;
  try {
    replication = createReplication(db, options.replication, { blobs, access, logger, tmpDir, jobs, metrics: () => metrics.collector, registryRepository });
  } catch (error) {
    db.close();
    lock.release();
    throw error;
  }
  const blobsInFlight = new BlobsInFlight();
  const registry = new RegistryService({
    repository: registryRepository,
    blobs,
    inFlight: blobsInFlight,
    logger,
    signatures: new RegistrySignatures(db, blobs, trust),
    packageCreated: (name, owner) => access.initializePackage(name, owner),
    encryptor,
    visibilityGate: replication,
    versionChanged: replication.versionChanged.bind(replication),
    readFallback: replication.readFallback.bind(replication),
  });
  replication.attachPeerTarget({ registry, access, blobs, tmpDir });
  // `metrics` is built below; decisions only happen once requests arrive, after it exists.
  const authorizer = new RegistryAuthorizer(access, (permission, subject, outcome) => metrics.collector.recordAccess(permission, subject, outcome));
  const staging = new StagingArea({
    tmpDir,
    registry,
    jobs,
    maxPackageBytes: () => settings.get().registry.maxPackageBytes,
    // Built below; publishes only happen once the UI asks, after it exists.
    onPublished: (result, durationMs) => metrics.collector.recordUpload(result.name, result.version, result.size, durationMs, 'ui'),
    signingPair: (keyId) => keyring.pair(keyId),
  });
  const blobGc = new BlobGarbageCollector({ blobs, inFlight: blobsInFlight, isReferenced: (digestHex) => registryRepository.isDigestReferenced(digestHex), logger });
  const preparedDownloads = new PreparedDownloads({ dir: path.join(tmpDir, 'exports'), registry, tools: { encryptor, tmpDir } });
  const stagedFolders = new StagedFolders({ tmpDir, staging, jobs, maxPackageBytes: () => settings.get().registry.maxPackageBytes });
  const cache = new PackageCache({
    db,
    dir: path.join(dataDir, 'cache'),
    maxBytes: () => settings.get().cache.maxBytes,
    offline: () => settings.get().cache.offline,
    clientFor: (url) => {
      const config = settings.get().registries.find((registry) => normalizeRegistryUrl(registry.url) === url);
      return new RegistryClient({ baseUrl: url, apiKey: config?.apiKeySecret ? (secrets.get(config.apiKeySecret) ?? null) : null });
    },
    logger,
    signatures: {
      policy: (url) => settings.get().registries.find((registry) => normalizeRegistryUrl(registry.url) === url)?.signaturePolicy ?? 'off',
      trustedKeys: () => trust.activeKeys(),
    },
    mirrors: () => mirrors,
  });
  void cache.reconcile().catch((error: unknown) => logger.warn(`package cache: reconcile failed: ${(error as Error).message}`));
  // A lower cap applies at once, not at the next fetch.
  settings.onChange(() => void cache.enforceCap().catch(() => undefined));
  const metrics = new MetricsService({
    db,
    logger,
    notify: (notification) => events.emit('notification', notification),
    onUpdated: (update) => events.emit('metrics.updated', update),
    rawRetentionMs: () => settings.get().metrics.rawRetentionHours * 3_600_000,
    webhookUrl: () => settings.get().metrics.alertWebhookUrl,
    externalUrl: () => registryUrl,
    ...options.metrics,
  });
  metrics.collector.setGaugeSource('cache_bytes', () => cache.stats().bytes);
  void metrics.runRetention();
  void replication.start().catch((error: unknown) => logger.error('replication: the queue could not start', error));
  const startedAt = Date.now();
  const health = new HealthService({
    version: appVersion,
    shell: options.shell,
    dataDir,
    databaseFile,
    startedAt,
    runningJobs: () => jobs.runningCount(),
    checks: [],
  });

  const probeRepository = new SqliteProbeRepository(db);
  const prober = new Prober({
    repository: probeRepository,
    logger,
    // Mirror health in /metrics; the healthy count is the alert engine's `mirrors_healthy`.
    onChecked: ({ target, health }) => {
      if (target.kind === cdnEdgeProbeKind) cdn.metrics.setEdgeHealth(target.id, { up: health.status === 'unknown' ? null : health.status !== 'unhealthy', latencySeconds: health.latencyMs === null ? null : health.latencyMs / 1000 });
      if (target.kind !== mirrorProbeKind) return;
      metrics.collector.setMirrorHealth(target.id, {
        up: health.status === 'unknown' ? null : health.status !== 'unhealthy',
        latencySeconds: health.latencyMs === null ? null : health.latencyMs / 1000,
        stalenessVersions: health.stalenessVersions,
      });
      void probeRepository.states(mirrorProbeKind).then((states) => metrics.collector.setMirrorsHealthy([...states.values()].filter((state) => state.status === 'healthy').length));
    },
  });
  const registryChanges = new RegistryChanges(db);
  const mirrors = new MirrorManager({
    repository: new SqliteMirrorRepository(db),
    probes: probeRepository,
    prober,
    changes: registryChanges,
    trustStoreKeys: () => trust.activeKeys(),
    baseDir: process.cwd(),
    logger,
    originUrl: () => registryUrl,
    onTransfer: (id, bytes, failover) => metrics.collector.recordMirrorTransfer(id, bytes, failover),
    envRegion: process.env.TORSH_DEPOT_REGION ?? null,
    sync: {
      jobs,
      // Private packages never go to a mirror: mirrors are static hosting anyone with the URL can read.
      source: () =>
        new LocalRegistrySource(registry, registryChanges, () => registryUrl, () => {
          const hidden = new Set(access.listPackageAccess(access.localContext()).filter((entry) => entry.visibility === 'private').map((entry) => entry.name));
          return (name) => !hidden.has(name);
        }),
      signer: () => {
        const key = keyring.list().find((candidate) => candidate.retiredAt === null);
        if (!key) throw new DepotError('VALIDATION_FAILED', 'Mirror indexes are signed: generate a signing key first (Signing screen, or `torsh-depot keys generate`).', { reason: 'no-signing-key' });
        return keyring.pair(key.keyId);
      },
      openTarget: (url, id) => storage.open(parseBlobStoreUrl(url, process.env), `mirror-${id}`),
      tmpDir,
    },
  });

  // Built after the prober it probes with; the prober's callback only runs once checks start.
  const cdn = createCdnService({ db, prober, probes: probeRepository, jobs, logger, prometheus: metrics.collector.prometheus, storage, registry, access, mirrors, registryUrl: () => registryUrl });
  const scheduler = new CronScheduler({ store: new SqliteScheduleStateStore(db), logger });
  const backups = new BackupService({
    state: new SqliteBackupStateRepository(db),
    jobs,
    scheduler,
    dataDir,
    tmpDir,
    logger,
    openStorage: async (url, id) => {
      const location = parseBlobStoreUrl(url, process.env);
      if (location.config.kind === 'local') await fsp.mkdir(location.config.path, { recursive: true });
      return storage.open(location, `backup-${id}`);
    },
    resolveSecret: (reference) => resolveSecretReference(reference, { env: process.env }),
    registry,
    access,
    notify: (notification) => events.emit('notification', notification),
    recordError: (operation, target, code) => metrics.collector.recordError(operation, target, code),
  });

  let registryUrl: string | null = null;
  const registryEndpoint = { url: () => registryUrl, set: (url: string | null) => void (registryUrl = url) };
  let closed = false;
  const partial = {
    dataDir,
    tmpDir,
    db,
    events,
    settings,
    secrets,
    jobs,
    health,
    logger,
    blobs,
    registry,
    encryptor,
    access,
    authorizer,
    staging,
    stagedFolders,
    preparedDownloads,
    cache,
    registries: new RegistryDirectory(settings, secrets, () => registryUrl),
    storage,
    registryEndpoint,
    trust,
    keyring,
    dialogs: options.dialogs ?? null,
    metrics,
    replication,
    prober,
    registryChanges,
    mirrors,
    cdn,
    scheduler,
    backups,
    startSchedules: () => {
      void backups
        .reschedule()
        .then(() => scheduler.start())
        .catch((error: unknown) => logger.error('backup: the schedules could not start', error));
    },
    startDataFolderCheck: (sizeMiB: number) =>
      jobs.start('data-folder-check', `Data folder check (${sizeMiB} MiB)`, { sizeMiB }, (context) => runDataFolderCheck(db, tmpDir, sizeMiB, context)),
    startBlobGc: (request: BlobGcRequest) =>
      jobs.start('blob-gc', request.dry_run ? 'Blob garbage collection (dry run)' : 'Blob garbage collection', request, (context) => blobGc.collect(request, context)),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      mirrors.stopHealthChecks();
      cdn.close();
      await scheduler.stop();
      await prober.close();
      await jobs.shutdown();
      await replication.stop();
      await staging.discardAll();
      await stagedFolders.discardAll();
      await preparedDownloads.discardAll();
      await metrics.close();
      db.close();
      lock.release();
    },
  };
  const router = new RequestRouter(createRequestHandlers(partial), logger);
  return { ...partial, router };
}

function createReplication(
  db: Database,
  input: ReplicationSectionInput | undefined,
  { blobs, access, logger, tmpDir, jobs, metrics, registryRepository }: { blobs: BlobStore; access: AccessControl; logger: Logger; tmpDir: string; jobs: JobRunner; metrics: () => MetricsService['collector']; registryRepository: RegistryRepository },
): ReplicationService {
  const parsed = input === undefined ? null : replicationSectionSchema.safeParse(input);
  if (parsed && !parsed.success) throw new Error(`replication: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return new ReplicationService({
    db,
    ...(parsed ? { section: parsed.data } : {}),
    source: { open: (digestHex) => blobs.open(digestHex) },
    logger,
    registryId: replicationRegistryId(db),
    jobs,
    versionExists: (name, version) => registryRepository.findVersion(name, version) !== undefined,
    // The collector is built after the registry; gauges are only set once the queue runs.
    metrics: {
      setReplicationLag: (target, seconds) => metrics().setReplicationLag(target, seconds),
      setReplicationQueue: (target, queued, hints) => metrics().setReplicationQueue(target, queued, hints),
    },
    repairLocal: (digestHex, open) => restoreBlob(blobs, tmpDir, digestHex, open),
    packageAccess: (name) => {
      try {
        const { visibility, owners } = access.packageAccess(access.localPrincipal(), name);
        return { visibility, owners };
      } catch {
        return null;
      }
    },
  });
}

/** The command line's `--blob-store` wins; else the setting names a configured backend; else the data folder. */
function chooseBlobStorage(storage: StorageManager, location: StorageLocation | undefined, settingId: string): StorageBackend {
  if (location) {
    storage.markBlobStore('blob-store');
    return storage.open(location, 'blob-store');
  }
  const id = storage.list().some((view) => view.id === settingId) ? settingId : builtInBackendId;
  storage.markBlobStore(id);
  return storage.backend(id);
}

function sweepTempDir(tmpDir: string, logger: Logger): void {
  try {
    const names = readdirSync(tmpDir);
    for (const name of names) rmSync(path.join(tmpDir, name), { recursive: true, force: true });
    if (names.length > 0) logger.info(`removed ${names.length} leftover temporary file(s)`);
  } catch (error) {
    logger.warn(`could not sweep ${tmpDir}: ${(error as Error).message}`);
  }
}
