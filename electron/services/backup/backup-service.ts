import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DepotError } from '../../../shared/errors';
import type { AppNotification } from '../../../shared/domain/health';
import {
  backupRepositorySchema,
  backupSectionSchema,
  forgetRequestSchema,
  pruneRequestSchema,
  recoveryPointRequestSchema,
  restoreRequestSchema,
  runBackupRequestSchema,
  verifyRequestSchema,
  type BackupProgressView,
  type BackupRepositoryConfig,
  type BackupRepositoryStats,
  type BackupRepositoryView,
  type BackupRun,
  type BackupSection,
  type BackupSet,
  type ForgetRequest,
  type PruneRequest,
  type RecoveryPoint,
  type RecoveryPointRequest,
  type RestoreRequest,
  type RetentionGroup,
  type RunBackupRequest,
  type SnapshotDiff,
  type SnapshotSummary,
  type VerifyRequest,
} from '../../../shared/domain/backup';
import type { Visibility } from '../../../shared/domain/access';
import type { AccessControl } from '../access/access-control';
import { parseAgeIdentities } from '../encryption/x25519-keys';
import type { CronScheduler, ScheduledTask } from '../jobs/cron-scheduler';
import type { JobContext, JobHandle, JobRunner } from '../jobs/job-runner';
import type { Logger } from '../logger';
import type { RegistryService } from '../registry/registry-service';
import type { StorageBackend } from '../storage/storage-backend';
import { BackupRepository } from './backup-repository';
import { runBackup, type BackupProgress } from './backup-runner';
import { snapshotRegistry, snapshotVersions, versionFileBase, type VersionRecordFile } from './backup-sources';
import type { BackupRunRecord, BackupStateRepository } from './backup-state-repository';
import { runForget, runPrune, type PruneReport } from './prune-runner';
import { objectKeys, type Snapshot } from './repository-format';
import { runRestore, type RestoreResult } from './restore-runner';
import { recoveryPointTag, type RetentionPolicy } from './retention-policy';
import { diffSnapshots, releaseRecoveryPointSnapshot, repositoryStats, retentionGroupsView, summarizeSnapshot } from './snapshot-views';
import { runVerify, type VerifyReport } from './verify-runner';

export interface BackupServiceOptions {
  state: BackupStateRepository;
  jobs: JobRunner;
  scheduler: CronScheduler;
  dataDir: string;
  tmpDir: string;
  logger: Logger;
  /** Opens a repository's storage URL through the storage manager (retries, stats). */
  openStorage: (url: string, repositoryId: string) => Promise<StorageBackend>;
  /** `${ENV}` / `file:` references to the passphrase and identity. */
  resolveSecret: (reference: string) => Promise<string>;
  registry: Pick<RegistryService, 'listVersionRows' | 'getVersion' | 'publishUpload' | 'setYanked' | 'putSignature' | 'listVersions'>;
  access: Pick<AccessControl, 'listPackageAccess' | 'localContext' | 'setPackageAccess'>;
  /** Scheduled verify failures: a notification (desktop, browser, webhook through the alert machinery). */
  notify: (notification: AppNotification) => void;
  /** Counted in the `errors` metric the alert rules watch. */
  recordError: (operation: string, target: string, code: string) => void;
  now?: () => Date;
}

/** What restoring a recovery point did to the live registry. */
export interface RecoveryRestoreResult {
  name: string;
  version: string;
  /** The version was missing and was published again from the snapshot. */
  republished: boolean;
  yanked: boolean;
  visibility: string | null;
  signatures: number;
}

/** Glob of package names: `*` any run of characters, `?` one character. */
export function globMatcher(glob: string): (name: string) => boolean {
  const pattern = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const regex = new RegExp(`^${pattern}$`);
  return (name) => regex.test(name);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function progressMessage(progress: BackupProgress): string {
  const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
  const eta = progress.etaSeconds === null ? '' : ` · ETA ${Math.ceil(progress.etaSeconds)} s`;
  return `${progress.filesDone}/${progress.filesTotal} files · ${mib(progress.bytesRead)} of ${mib(progress.bytesTotal)} read · ${mib(progress.bytesNew)} new${eta}`;
}

/**
 * Backups of this registry: the configured repositories, backup/verify/prune/restore as jobs of the
 * one jobs runner, cron schedules, run history, and recovery points (the deploy pipeline's API:
 * `createRecoveryPoint` before a change, `restoreRecoveryPoint` to undo it).
 */
export class BackupService {
  private readonly progress = new Map<string, BackupProgressView>();
  private readonly now: () => Date;
  private recovered: Promise<number> | null = null;

  constructor(private readonly options: BackupServiceOptions) {
    this.now = options.now ?? (() => new Date());
  }

  // ---- repositories ----

  async repositories(): Promise<BackupRepositoryView[]> {
    const upcoming = this.options.scheduler.upcoming();
    return (await this.options.state.listRepositories()).map(({ config, origin }) => ({
      id: config.id,
      repo: config.repo,
      origin,
      config,
      schedules: upcoming.filter((entry) => entry.key === `backup:${config.id}` || entry.key === `verify:${config.id}`),
    }));
  }

  async repository(id: string): Promise<BackupRepositoryConfig> {
    const found = (await this.options.state.listRepositories()).find((entry) => entry.config.id === id);
    if (!found) throw new DepotError('NOT_FOUND', `No backup repository "${id}".`, { reason: 'no-backup-repository' });
    return found.config;
  }

  /** Adds or replaces a repository from the API or the screen (depot.yaml-owned ones are refused). */
  async saveRepository(input: unknown): Promise<BackupRepositoryView> {
    const parsed = backupRepositorySchema.safeParse(input);
    if (!parsed.success) throw new DepotError('VALIDATION_FAILED', `The backup repository is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'repository'}: ${issue.message}`).join('; ')}`);
    const existing = (await this.options.state.listRepositories()).find((entry) => entry.config.id === parsed.data.id);
    if (existing?.origin === 'config') throw new DepotError('CONFLICT', `Backup repository "${parsed.data.id}" is set in depot.yaml; change it there.`, { reason: 'config-owned' });
    await this.options.state.saveRepository(parsed.data, 'api');
    await this.reschedule();
    const view = (await this.repositories()).find((entry) => entry.id === parsed.data.id);
    if (!view) throw new DepotError('INTERNAL', 'The repository was not saved.');
    return view;
  }

  async removeRepository(id: string): Promise<void> {
    const config = (await this.options.state.listRepositories()).find((entry) => entry.config.id === id);
    if (!config) throw new DepotError('NOT_FOUND', `No backup repository "${id}".`, { reason: 'no-backup-repository' });
    if (config.origin === 'config') throw new DepotError('CONFLICT', `Backup repository "${id}" is set in depot.yaml; remove it there.`, { reason: 'config-owned' });
    await this.options.state.removeRepository(id);
    await this.reschedule();
  }

  /** The `backup:` section of depot.yaml: its repositories replace the file-owned ones. */
  async replaceSection(section: BackupSection): Promise<void> {
    const parsed = backupSectionSchema.parse(section);
    const ids = new Set<string>();
    for (const repository of parsed.repositories) {
      if (ids.has(repository.id)) throw new DepotError('VALIDATION_FAILED', `backup.repositories: "${repository.id}" appears twice.`, { reason: 'duplicate-id' });
      ids.add(repository.id);
    }
    await this.options.state.replaceConfigRepositories(parsed.repositories);
    await this.reschedule();
  }

  /** Creates the repository at its URL unless one is there; returns whether it was created. */
  async initRepository(id: string): Promise<{ created: boolean; repositoryId: string }> {
    const config = await this.repository(id);
    const storage = await this.options.openStorage(config.repo, id);
    if (await storage.head(objectKeys.config)) return { created: false, repositoryId: id };
    const created = await BackupRepository.init(storage, {
      passphrase: await this.options.resolveSecret(config.passphrase),
      recipients: config.recipients,
      compression: config.compression,
      ...(config.chunker ? { chunker: { minSize: config.chunker.min, avgSize: config.chunker.avg, maxSize: config.chunker.max } } : {}),
    });
    this.options.logger.info(`backup: created repository ${created.config.id} for "${id}" in ${storage.description}`);
    return { created: true, repositoryId: id };
  }

  private async open(id: string, options: { create?: boolean } = {}): Promise<BackupRepository> {
    const config = await this.repository(id);
    const storage = await this.options.openStorage(config.repo, id);
    if (options.create && !(await storage.head(objectKeys.config))) await this.initRepository(id);
    const identities = config.identity ? parseAgeIdentities(await this.options.resolveSecret(config.identity)) : [];
    return BackupRepository.open(storage, { passphrase: await this.options.resolveSecret(config.passphrase), identities });
  }

  // ---- reading ----

  async snapshots(id: string): Promise<SnapshotSummary[]> {
    return (await (await this.open(id)).listSnapshots()).map(summarizeSnapshot);
  }

  async snapshot(id: string, snapshotId: string): Promise<Snapshot> {
    return (await this.open(id)).findSnapshot(snapshotId);
  }

  async diff(id: string, from: string, to: string): Promise<SnapshotDiff> {
    const repository = await this.open(id);
    return diffSnapshots(await repository.findSnapshot(from), await repository.findSnapshot(to));
  }

  async stats(id: string): Promise<BackupRepositoryStats> {
    return repositoryStats(await this.open(id));
  }

  async runs(repositoryId: string | null, limit = 50): Promise<BackupRun[]> {
    const records = await this.options.state.listRuns(repositoryId, Math.min(Math.max(limit, 1), 500));
    return records.map((record) => ({ ...record, progress: this.progress.get(record.jobId) ?? null }));
  }

  /** Live progress (files, bytes read, bytes new, ETA) of a running backup job. */
  progressOf(jobId: string): BackupProgressView | null {
    return this.progress.get(jobId) ?? null;
  }

  // ---- operations (jobs) ----

  async startBackup(id: string, input: RunBackupRequest, trigger: 'manual' | 'schedule' = 'manual'): Promise<JobHandle<SnapshotSummary>> {
    const request = runBackupRequestSchema.parse(input);
    const config = await this.repository(id);
    const set = request.set ?? config.source;
    const strategy = request.strategy ?? config.strategy;
    return this.runJob(id, 'backup', trigger, `Backup of ${describeSet(set)} into ${id}`, { set, strategy }, async (context, jobId) => {
      const repository = await this.open(id, { create: true });
      const snapshot = await this.backupSet(repository, set, { strategy, tags: request.tags, note: request.note, context, jobId });
      return { result: summarizeSnapshot(snapshot), snapshotId: snapshot.id };
    });
  }

  async startVerify(id: string, input: VerifyRequest, trigger: 'manual' | 'schedule' = 'manual'): Promise<JobHandle<VerifyReport>> {
    const request = verifyRequestSchema.parse(input);
    const fraction = request.readData ? 1 : request.readDataSubset !== undefined ? request.readDataSubset / 100 : 0;
    return this.runJob(id, 'verify', trigger, `Verify ${id}${fraction > 0 ? ` (reading ${Math.round(fraction * 100)}% of the data)` : ''}`, request, async (context) => {
      let report: VerifyReport;
      try {
        report = await runVerify(await this.open(id), { readDataFraction: fraction, signal: context.signal, onProgress: (done, total) => context.reportProgress(total > 0 ? done / total : null, `${done}/${total} packs read`) });
      } catch (error) {
        if (trigger === 'schedule') this.alertVerify(id, messageOf(error));
        throw error;
      }
      if (!report.ok) {
        if (trigger === 'schedule') this.alertVerify(id, `${report.problems.length} problem(s); damaged packs: ${report.damagedPacks.map((pack) => pack.slice(0, 12)).join(', ') || 'none'}; affected snapshots: ${report.affectedSnapshots.map((snapshot) => snapshot.slice(0, 12)).join(', ') || 'none'}`);
        throw new DepotError('DIGEST_MISMATCH', `The repository ${id} has errors: ${report.problems[0]?.message ?? ''}`, { reason: 'verify-failed' });
      }
      return { result: report, snapshotId: null };
    });
  }

  private alertVerify(id: string, detail: string): void {
    this.options.recordError('backup-verify', id, 'VERIFY_FAILED');
    this.options.notify({ title: `Backup verification failed: ${id}`, body: detail, level: 'error' });
  }

  async startPrune(id: string, input: PruneRequest): Promise<JobHandle<PruneReport>> {
    const request = pruneRequestSchema.parse(input);
    return this.runJob(id, 'prune', 'manual', `${request.dryRun ? 'Prune (dry run)' : 'Prune'} ${id}`, request, async (context) => ({
      result: await runPrune(await this.open(id), { dryRun: request.dryRun, signal: context.signal, ...(request.maxUnused !== undefined ? { maxUnusedFraction: request.maxUnused / 100 } : {}) }),
      snapshotId: null,
    }));
  }

  /** Retention: a dry run answers at once with what would go and why; a real one runs as a job (and prunes if asked). */
  async forget(id: string, input: ForgetRequest): Promise<{ dryRun: boolean; groups: RetentionGroup[]; job: JobHandle<{ groups: RetentionGroup[]; prune: PruneReport | null }> | null }> {
    const request = forgetRequestSchema.parse(input);
    const policy = request.keep as RetentionPolicy;
    if (Object.values(policy).every((value) => value === undefined) && !request.dryRun) {
      throw new DepotError('VALIDATION_FAILED', 'A retention policy that keeps nothing would remove every snapshot; give at least one keep rule.', { reason: 'empty-policy' });
    }
    if (request.dryRun) return { dryRun: true, groups: retentionGroupsView(await runForget(await this.open(id), { policy, dryRun: true })), job: null };
    const job = await this.runJob(id, 'forget', 'manual', `Forget${request.prune ? ' and prune' : ''} in ${id}`, request, async (context) => {
      const repository = await this.open(id);
      const groups = retentionGroupsView(await runForget(repository, { policy, dryRun: false }));
      const prune = request.prune ? await runPrune(repository, { signal: context.signal }) : null;
      return { result: { groups, prune }, snapshotId: null };
    });
    return { dryRun: false, groups: [], job };
  }

  /** Restores a snapshot (or some of its paths) into a folder that is new or empty. */
  async startRestore(id: string, input: RestoreRequest): Promise<JobHandle<RestoreResult & { snapshot: string }>> {
    const request = restoreRequestSchema.parse(input);
    if (!path.isAbsolute(request.target)) throw new DepotError('VALIDATION_FAILED', 'The restore target must be an absolute path on the host.', { reason: 'relative-target' });
    const existing = await fsp.readdir(request.target).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
    if (existing.length > 0) throw new DepotError('CONFLICT', `${request.target} is not empty; restore into a new or empty folder.`, { reason: 'target-not-empty' });
    return this.runJob(id, 'restore', 'manual', `Restore ${request.snapshot.slice(0, 12)} from ${id}`, request, async (context) => {
      const repository = await this.open(id);
      const snapshot = await repository.findSnapshot(request.snapshot);
      const result = await runRestore(repository, {
        snapshot,
        targetDir: request.target,
        ...(request.paths ? { paths: request.paths } : {}),
        signal: context.signal,
        onProgress: (progress) => context.reportProgress(progress.bytesTotal > 0 ? progress.bytesWritten / progress.bytesTotal : null, `${progress.filesDone}/${progress.filesTotal} files restored`),
      });
      return { result: { ...result, snapshot: snapshot.id }, snapshotId: snapshot.id };
    });
  }

  // ---- recovery points (the deploy pipeline calls these) ----

  /** Takes a snapshot of one version (file, metadata, yank state, signatures, visibility), kept until released. */
  async createRecoveryPoint(input: RecoveryPointRequest): Promise<JobHandle<RecoveryPoint>> {
    const request = recoveryPointRequestSchema.parse(input);
    this.options.registry.getVersion(request.name, request.version);
    return this.runJob(request.repository, 'recovery-point', 'manual', `Recovery point of ${request.name}@${request.version}`, request, async (context, jobId) => {
      const repository = await this.open(request.repository, { create: true });
      const snapshot = await this.backupSet(repository, { kind: 'version', name: request.name, version: request.version }, { strategy: 'incremental', tags: [recoveryPointTag], note: request.note, context, jobId });
      const point: RecoveryPoint = { id: snapshot.id, repositoryId: request.repository, snapshotId: snapshot.id, package: request.name, version: request.version, note: request.note, createdAt: snapshot.time, releasedAt: null };
      await this.options.state.addRecoveryPoint(point);
      return { result: point, snapshotId: snapshot.id };
    });
  }

  async recoveryPoints(includeReleased = false): Promise<RecoveryPoint[]> {
    return this.options.state.listRecoveryPoints(includeReleased);
  }

  private async recoveryPoint(id: string): Promise<RecoveryPoint> {
    const point = await this.options.state.getRecoveryPoint(id);
    if (!point) throw new DepotError('NOT_FOUND', `No recovery point ${id}.`, { reason: 'no-recovery-point' });
    return point;
  }

  /** Untags the snapshot (retention may then remove it) and marks the point released. */
  async releaseRecoveryPoint(id: string): Promise<RecoveryPoint> {
    const point = await this.recoveryPoint(id);
    if (point.releasedAt !== null) return point;
    await releaseRecoveryPointSnapshot(await this.open(point.repositoryId), point.snapshotId);
    const at = this.now().toISOString();
    await this.options.state.releaseRecoveryPoint(id, at);
    return { ...point, releasedAt: at };
  }

  /**
   * Brings the version back into the live registry as it was at the recovery point, through the
   * registry service: published again if it is gone (the digest is checked before it lands), yank
   * state, visibility and signatures set back.
   */
  async restoreRecoveryPoint(id: string): Promise<JobHandle<RecoveryRestoreResult>> {
    const point = await this.recoveryPoint(id);
    if (point.releasedAt !== null) throw new DepotError('CONFLICT', `Recovery point ${id} was released on ${point.releasedAt}.`, { reason: 'recovery-point-released' });
    return this.runJob(point.repositoryId, 'recovery-restore', 'manual', `Restore ${point.package}@${point.version} to recovery point ${id.slice(0, 12)}`, { id }, async (context) => ({
      result: await this.restoreVersionFrom(await this.open(point.repositoryId), point.snapshotId, point.package, point.version, context),
      snapshotId: point.snapshotId,
    }));
  }

  /** Brings one version held by a version or set snapshot back into the live registry (as restoreRecoveryPoint does). */
  async startVersionRestore(id: string, snapshotId: string, name: string, version: string): Promise<JobHandle<RecoveryRestoreResult>> {
    return this.runJob(id, 'recovery-restore', 'manual', `Restore ${name}@${version} from snapshot ${snapshotId.slice(0, 12)}`, { snapshot: snapshotId, name, version }, async (context) => {
      const repository = await this.open(id);
      const snapshot = await repository.findSnapshot(snapshotId);
      return { result: await this.restoreVersionFrom(repository, snapshot.id, name, version, context), snapshotId: snapshot.id };
    });
  }

  private async restoreVersionFrom(repository: BackupRepository, snapshotId: string, name: string, version: string, context: JobContext): Promise<RecoveryRestoreResult> {
    const snapshot = await repository.loadSnapshot(snapshotId);
    const base = versionFileBase(name, version);
    const packageSha = snapshot.files.find((file) => file.path === `${base}.torshpkg`)?.sha256;
    if (packageSha === undefined || !snapshot.files.some((file) => file.path === `${base}.registry.json`)) {
      throw new DepotError('NOT_FOUND', `Snapshot ${snapshot.id.slice(0, 12)} does not hold ${name}@${version} (only version and set snapshots do).`, { reason: 'version-not-in-snapshot' });
    }
    const scratch = await fsp.mkdtemp(path.join(this.options.tmpDir, 'recovery-'));
    try {
      await runRestore(repository, { snapshot, targetDir: scratch, paths: [`${base}.torshpkg`, `${base}.registry.json`], signal: context.signal, onProgress: (progress) => context.reportProgress(progress.bytesTotal > 0 ? (0.8 * progress.bytesWritten) / progress.bytesTotal : null, 'Reading the snapshot') });
      const recordFile = JSON.parse(await fsp.readFile(path.join(scratch, `${base}.registry.json`), 'utf8')) as VersionRecordFile;
      // The package file's SHA-256 was checked against the snapshot by the restore; it must be the version's digest too.
      if (`sha256:${packageSha}` !== String(recordFile.record.digest)) throw new DepotError('DIGEST_MISMATCH', `The snapshot's package file does not match ${name}@${version}'s digest.`, { reason: 'digest-mismatch' });
      return await this.applyVersionRecord(recordFile, path.join(scratch, `${base}.torshpkg`), context);
    } finally {
      await fsp.rm(scratch, { recursive: true, force: true });
    }
  }

  private async applyVersionRecord(entry: VersionRecordFile, packageFile: string, context: JobContext): Promise<RecoveryRestoreResult> {
    const { registry, access } = this.options;
    const digest = String(entry.record.digest);
    let current: ReturnType<typeof registry.getVersion> | null = null;
    try {
      current = registry.getVersion(entry.name, entry.version);
    } catch (error) {
      if (!(error instanceof DepotError && error.code === 'NOT_FOUND')) throw error;
    }
    let republished = false;
    if (current === null) {
      if (entry.record.encryption_json !== null && entry.record.encryption_json !== undefined) {
        throw new DepotError('CONFLICT', `${entry.name}@${entry.version} was encrypted on publish; restore it with the whole registry, not as a single version.`, { reason: 'encrypted-version' });
      }
      context.reportProgress(0.85, 'Publishing the version again');
      const stat = await fsp.stat(packageFile);
      // publishUpload consumes the file it is given: hand it a copy-free rename target inside tmp.
      const upload = path.join(this.options.tmpDir, `recovery-${randomBytes(6).toString('hex')}.torshpkg`);
      await fsp.rename(packageFile, upload);
      const published = await registry.publishUpload({ tempPath: upload, digestHex: digest.replace(/^sha256:/, ''), size: stat.size }, { name: entry.name, version: entry.version, publisher: typeof entry.record.published_by === 'string' ? entry.record.published_by : null, signal: context.signal });
      if (published.digest !== digest) throw new DepotError('DIGEST_MISMATCH', `${entry.name}@${entry.version} republished with digest ${published.digest}, not ${digest}.`, { reason: 'digest-mismatch' });
      republished = true;
    } else if (current.digest !== digest) {
      throw new DepotError('CONFLICT', `${entry.name}@${entry.version} in the registry has digest ${current.digest}, not the recovery point's ${digest}: versions are immutable.`, { reason: 'digest-differs' });
    }
    const yanked = Number(entry.record.yanked) === 1;
    registry.setYanked(entry.name, entry.version, yanked);
    let visibility: string | null = null;
    if (entry.visibility === 'public' || entry.visibility === 'internal' || entry.visibility === 'private') {
      access.setPackageAccess(access.localContext(), entry.name, { visibility: entry.visibility as Visibility });
      visibility = entry.visibility;
    }
    for (const signature of entry.signatures) {
      await registry.putSignature(entry.name, entry.version, signature.signature, signature.uploaded_by, { id: signature.uploaded_by, mayReplaceAny: true }, { signal: context.signal });
    }
    return { name: entry.name, version: entry.version, republished, yanked, visibility, signatures: entry.signatures.length };
  }

  // ---- sets ----

  /** Versions of a set: names matching the glob, packages of the visibility asked for. */
  selectVersions(glob: string, visibility: 'public' | 'internal' | 'private' | 'any'): Array<{ name: string; version: string }> {
    const matches = globMatcher(glob);
    const visibilities = new Map(this.options.access.listPackageAccess(this.options.access.localContext()).map((entry) => [entry.name, entry.visibility]));
    const selected: Array<{ name: string; version: string }> = [];
    for (let offset = 0; ; offset += 500) {
      const { rows } = this.options.registry.listVersionRows(offset, 500);
      for (const row of rows) if (matches(row.name) && (visibility === 'any' || visibilities.get(row.name) === visibility)) selected.push({ name: row.name, version: row.version });
      if (rows.length < 500) break;
    }
    return selected;
  }

  private async backupSet(
    repository: BackupRepository,
    set: BackupSet,
    run: { strategy: 'full' | 'incremental' | 'differential'; tags: string[]; note: string | null; context: JobContext; jobId: string },
  ): Promise<Snapshot> {
    const scratch = await fsp.mkdtemp(path.join(this.options.tmpDir, 'backup-'));
    const onProgress = (progress: BackupProgress): void => {
      this.progress.set(run.jobId, progress);
      run.context.reportProgress(progress.bytesTotal > 0 ? progress.bytesRead / progress.bytesTotal : null, progressMessage(progress));
    };
    const common = { strategy: run.strategy, tags: run.tags, note: run.note, signal: run.context.signal, onProgress };
    try {
      if (set.kind === 'registry') {
        const source = await snapshotRegistry(this.options.dataDir, scratch);
        return await runBackup(repository, { ...common, source: { kind: 'registry', label: path.resolve(this.options.dataDir) }, files: source.files });
      }
      const versions = set.kind === 'version' ? [{ name: set.name, version: set.version }] : this.selectVersions(set.glob, set.visibility);
      if (versions.length === 0) throw new DepotError('NOT_FOUND', `No version matches ${describeSet(set)}.`, { reason: 'empty-set' });
      const source = await snapshotVersions(this.options.dataDir, versions, scratch);
      const label = set.kind === 'version' ? `${set.name}@${set.version}` : `${set.glob} (${set.visibility})`;
      return await runBackup(repository, { ...common, source: { kind: set.kind === 'version' ? 'version' : 'set', label }, files: source.files });
    } finally {
      await fsp.rm(scratch, { recursive: true, force: true });
      this.progress.delete(run.jobId);
    }
  }

  // ---- jobs and history ----

  private async runJob<Result>(
    repositoryId: string,
    kind: BackupRunRecord['kind'],
    trigger: 'manual' | 'schedule',
    title: string,
    params: unknown,
    work: (context: JobContext, jobId: string) => Promise<{ result: Result; snapshotId: string | null }>,
  ): Promise<JobHandle<Result>> {
    await this.repository(repositoryId);
    this.recovered ??= this.options.state.markRunningInterrupted(this.now().toISOString());
    await this.recovered;
    let release!: (jobId: string) => void;
    const recorded = new Promise<string>((resolve) => {
      release = resolve;
    });
    const handle = this.options.jobs.start(`backup-${kind}`, title, { repository: repositoryId, ...(params as object) }, async (context) => {
      const jobId = await recorded;
      try {
        const { result, snapshotId } = await work(context, jobId);
        await this.options.state.finishRun(jobId, { status: 'succeeded', finishedAt: this.now().toISOString(), snapshotId, summary: result, error: null });
        return result;
      } catch (error) {
        const cancelled = error instanceof DepotError && error.code === 'CANCELLED';
        await this.options.state.finishRun(jobId, { status: cancelled || context.signal.aborted ? 'cancelled' : 'failed', finishedAt: this.now().toISOString(), snapshotId: null, summary: null, error: messageOf(error) });
        throw error;
      }
    });
    await this.options.state.startRun({ jobId: handle.record.id, repositoryId, kind, trigger, status: 'running', startedAt: this.now().toISOString(), finishedAt: null, snapshotId: null, summary: null, error: null });
    release(handle.record.id);
    return handle;
  }

  // ---- schedules ----

  /** Puts every repository's backup and verify schedules on the cron scheduler. */
  async reschedule(): Promise<void> {
    const tasks: ScheduledTask[] = [];
    for (const { config } of await this.options.state.listRepositories()) {
      if (config.schedule) {
        tasks.push({ key: `backup:${config.id}`, cron: config.schedule, run: () => this.scheduledRun(() => this.startBackup(config.id, {}, 'schedule'), config, 'backup') });
      }
      if (config.verify) {
        const subset = config.verify.readDataSubset;
        tasks.push({ key: `verify:${config.id}`, cron: config.verify.schedule, run: () => this.scheduledRun(() => this.startVerify(config.id, { readDataSubset: subset }, 'schedule'), config, 'verify') });
      }
    }
    await this.options.scheduler.setTasks(tasks);
  }

  private async scheduledRun(start: () => Promise<JobHandle<unknown>>, config: BackupRepositoryConfig, what: 'backup' | 'verify'): Promise<void> {
    let handle: JobHandle<unknown>;
    try {
      handle = await start();
    } catch (error) {
      if (what === 'verify') this.alertVerify(config.id, messageOf(error));
      throw error;
    }
    await handle.done;
    if (what === 'backup' && config.keep) {
      const keep = config.keep;
      const forgotten = await this.forget(config.id, { keep, dryRun: false, prune: false });
      await forgotten.job?.done;
    }
  }
}

export function describeSet(set: BackupSet): string {
  if (set.kind === 'registry') return 'the whole registry';
  if (set.kind === 'version') return `${set.name}@${set.version}`;
  return `packages ${set.glob}${set.visibility === 'any' ? '' : ` (${set.visibility})`}`;
}
