import type { Database } from 'better-sqlite3';
import { backupRepositorySchema, type BackupRepositoryConfig, type BackupRun, type RecoveryPoint } from '../../../shared/domain/backup';

export interface StoredBackupRepository {
  config: BackupRepositoryConfig;
  origin: 'config' | 'api';
}

export type BackupRunRecord = Omit<BackupRun, 'progress'>;

/** Backup state (migration 14) behind an async interface: SQLite now, PostgreSQL later. */
export interface BackupStateRepository {
  listRepositories(): Promise<StoredBackupRepository[]>;
  saveRepository(config: BackupRepositoryConfig, origin: 'config' | 'api'): Promise<void>;
  removeRepository(id: string): Promise<boolean>;
  /** Replaces every depot.yaml-owned repository with `configs` in one transaction; API-added ones stay. */
  replaceConfigRepositories(configs: BackupRepositoryConfig[]): Promise<void>;
  startRun(run: BackupRunRecord): Promise<void>;
  finishRun(jobId: string, outcome: { status: BackupRunRecord['status']; finishedAt: string; snapshotId: string | null; summary: unknown; error: string | null }): Promise<void>;
  listRuns(repositoryId: string | null, limit: number): Promise<BackupRunRecord[]>;
  /** Runs left `running` by a crash become `failed` (the job runner marks their jobs interrupted). */
  markRunningInterrupted(at: string): Promise<number>;
  addRecoveryPoint(point: RecoveryPoint): Promise<void>;
  listRecoveryPoints(includeReleased: boolean): Promise<RecoveryPoint[]>;
  getRecoveryPoint(id: string): Promise<RecoveryPoint | null>;
  releaseRecoveryPoint(id: string, at: string): Promise<void>;
}

interface RunRow {
  job_id: string;
  repository_id: string;
  kind: BackupRunRecord['kind'];
  trigger: BackupRunRecord['trigger'];
  status: BackupRunRecord['status'];
  started_at: string;
  finished_at: string | null;
  snapshot_id: string | null;
  summary_json: string | null;
  error: string | null;
}

interface PointRow {
  id: string;
  repository_id: string;
  snapshot_id: string;
  package: string;
  version: string;
  note: string | null;
  created_at: string;
  released_at: string | null;
}

function runOf(row: RunRow): BackupRunRecord {
  return {
    jobId: row.job_id,
    repositoryId: row.repository_id,
    kind: row.kind,
    trigger: row.trigger,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    snapshotId: row.snapshot_id,
    summary: row.summary_json === null ? null : (JSON.parse(row.summary_json) as unknown),
    error: row.error,
  };
}

function pointOf(row: PointRow): RecoveryPoint {
  return { id: row.id, repositoryId: row.repository_id, snapshotId: row.snapshot_id, package: row.package, version: row.version, note: row.note, createdAt: row.created_at, releasedAt: row.released_at };
}

export class SqliteBackupStateRepository implements BackupStateRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  listRepositories(): Promise<StoredBackupRepository[]> {
    const rows = this.db.prepare('SELECT config_json, origin FROM backup_repositories ORDER BY position, id').all() as Array<{ config_json: string; origin: 'config' | 'api' }>;
    return Promise.resolve(rows.map((row) => ({ config: backupRepositorySchema.parse(JSON.parse(row.config_json)), origin: row.origin })));
  }

  saveRepository(config: BackupRepositoryConfig, origin: 'config' | 'api'): Promise<void> {
    this.upsert(config, origin);
    return Promise.resolve();
  }

  private upsert(config: BackupRepositoryConfig, origin: 'config' | 'api'): void {
    const at = this.now().toISOString();
    const position = (this.db.prepare('SELECT COALESCE(MAX(position), -1) + 1 AS next FROM backup_repositories').get() as { next: number }).next;
    this.db
      .prepare(
        `INSERT INTO backup_repositories (id, position, config_json, origin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET config_json = excluded.config_json, origin = excluded.origin, updated_at = excluded.updated_at`,
      )
      .run(config.id, position, JSON.stringify(config), origin, at, at);
  }

  removeRepository(id: string): Promise<boolean> {
    return Promise.resolve(this.db.prepare('DELETE FROM backup_repositories WHERE id = ?').run(id).changes > 0);
  }

  replaceConfigRepositories(configs: BackupRepositoryConfig[]): Promise<void> {
    this.db.transaction(() => {
      const keep = new Set(configs.map((config) => config.id));
      for (const row of this.db.prepare(`SELECT id FROM backup_repositories WHERE origin = 'config'`).all() as Array<{ id: string }>) {
        if (!keep.has(row.id)) this.db.prepare('DELETE FROM backup_repositories WHERE id = ?').run(row.id);
      }
      for (const config of configs) this.upsert(config, 'config');
    })();
    return Promise.resolve();
  }

  startRun(run: BackupRunRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO backup_runs (job_id, repository_id, kind, trigger, status, started_at, finished_at, snapshot_id, summary_json, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(run.jobId, run.repositoryId, run.kind, run.trigger, run.status, run.startedAt, run.finishedAt, run.snapshotId, run.summary === null ? null : JSON.stringify(run.summary), run.error);
    return Promise.resolve();
  }

  finishRun(jobId: string, outcome: { status: BackupRunRecord['status']; finishedAt: string; snapshotId: string | null; summary: unknown; error: string | null }): Promise<void> {
    this.db
      .prepare('UPDATE backup_runs SET status = ?, finished_at = ?, snapshot_id = COALESCE(?, snapshot_id), summary_json = ?, error = ? WHERE job_id = ?')
      .run(outcome.status, outcome.finishedAt, outcome.snapshotId, outcome.summary === null || outcome.summary === undefined ? null : JSON.stringify(outcome.summary), outcome.error, jobId);
    return Promise.resolve();
  }

  listRuns(repositoryId: string | null, limit: number): Promise<BackupRunRecord[]> {
    const rows = (
      repositoryId === null
        ? this.db.prepare('SELECT * FROM backup_runs ORDER BY started_at DESC, rowid DESC LIMIT ?').all(limit)
        : this.db.prepare('SELECT * FROM backup_runs WHERE repository_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?').all(repositoryId, limit)
    ) as RunRow[];
    return Promise.resolve(rows.map(runOf));
  }

  markRunningInterrupted(at: string): Promise<number> {
    return Promise.resolve(this.db.prepare(`UPDATE backup_runs SET status = 'failed', finished_at = ?, error = 'Interrupted by a shutdown.' WHERE status = 'running'`).run(at).changes);
  }

  addRecoveryPoint(point: RecoveryPoint): Promise<void> {
    this.db
      .prepare('INSERT INTO backup_recovery_points (id, repository_id, snapshot_id, package, version, note, created_at, released_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(point.id, point.repositoryId, point.snapshotId, point.package, point.version, point.note, point.createdAt, point.releasedAt);
    return Promise.resolve();
  }

  listRecoveryPoints(includeReleased: boolean): Promise<RecoveryPoint[]> {
    const rows = this.db.prepare(`SELECT * FROM backup_recovery_points ${includeReleased ? '' : 'WHERE released_at IS NULL'} ORDER BY created_at DESC, rowid DESC`).all() as PointRow[];
    return Promise.resolve(rows.map(pointOf));
  }

  getRecoveryPoint(id: string): Promise<RecoveryPoint | null> {
    const row = this.db.prepare('SELECT * FROM backup_recovery_points WHERE id = ?').get(id) as PointRow | undefined;
    return Promise.resolve(row ? pointOf(row) : null);
  }

  releaseRecoveryPoint(id: string, at: string): Promise<void> {
    this.db.prepare('UPDATE backup_recovery_points SET released_at = ? WHERE id = ?').run(at, id);
    return Promise.resolve();
  }
}
