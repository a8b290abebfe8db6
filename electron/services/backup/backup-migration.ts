import type { Migration } from '../database/migration';

/**
 * Migration 14: backup state.
 *
 * - `backup_repositories`: configured repositories (one `backup.repositories` entry as JSON each; the
 *   passphrase only as a `${ENV}`/`file:` reference). `origin` says whether depot.yaml owns it.
 * - `scheduled_runs`: when each cron-scheduled task last ran (the one cron scheduler's memory, keyed
 *   by task: `backup:<repo>`, `verify:<repo>`, later `replication:…`), so restarts keep the rhythm.
 * - `backup_runs`: history of backup, verify, prune, forget and restore runs (the job id links to `jobs`).
 * - `backup_recovery_points`: snapshots taken before a change (a deploy) and kept until released.
 */
export const backupMigration: Migration = {
  version: 14,
  name: 'backup: repositories, schedules, run history, recovery points',
  up(db) {
    db.exec(`
      CREATE TABLE backup_repositories (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        config_json TEXT NOT NULL CHECK (json_valid(config_json)),
        origin TEXT NOT NULL CHECK (origin IN ('config', 'api')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE scheduled_runs (
        task_key TEXT PRIMARY KEY,
        anchor_at TEXT NOT NULL,
        last_run_at TEXT,
        last_outcome TEXT CHECK (last_outcome IN ('started', 'succeeded', 'failed')),
        last_error TEXT
      ) STRICT;
      CREATE TABLE backup_runs (
        job_id TEXT PRIMARY KEY,
        repository_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('backup', 'verify', 'prune', 'forget', 'restore', 'recovery-point', 'recovery-restore')),
        trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule')),
        status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
        started_at TEXT NOT NULL,
        finished_at TEXT,
        snapshot_id TEXT,
        summary_json TEXT CHECK (summary_json IS NULL OR json_valid(summary_json)),
        error TEXT
      ) STRICT;
      CREATE INDEX backup_runs_repository ON backup_runs (repository_id, started_at);
      CREATE TABLE backup_recovery_points (
        id TEXT PRIMARY KEY,
        repository_id TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        note TEXT,
        created_at TEXT NOT NULL,
        released_at TEXT
      ) STRICT;
      CREATE INDEX backup_recovery_points_version ON backup_recovery_points (package, version, created_at);
    `);
  },
};
