import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { migrations } from '../../../../electron/services/database/migrations';
import { openDatabase } from '../../../../electron/services/database/open-database';
import { SqliteBackupStateRepository } from '../../../../electron/services/backup/backup-state-repository';
import { SqliteScheduleStateStore } from '../../../../electron/services/jobs/cron-scheduler';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

describe('migration 14 (backup state)', () => {
  it('upgrades a database made before backups and keeps repositories, runs, schedules and recovery points', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const file = path.join(temp.dir, 'old.sqlite');
    const old = openDatabase(file, migrations.filter((migration) => migration.version < 14));
    expect(old.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'backup_runs'`).get()).toEqual({ n: 0 });
    old.close();

    const db = openDatabase(file, migrations);
    cleanups.push(() => db.close());
    expect((db.prepare('SELECT version FROM schema_migrations WHERE version = 14').get() as { version: number }).version).toBe(14);
    const state = new SqliteBackupStateRepository(db, () => new Date('2026-12-02T10:00:00Z'));
    await state.saveRepository({ id: 'offsite', repo: 's3://backups/depot', passphrase: '${BACKUP_PASSPHRASE}', recipients: [], compression: { codec: 'zstd', level: 3 }, source: { kind: 'registry' }, strategy: 'incremental' }, 'api');
    await state.startRun({ jobId: 'job-1', repositoryId: 'offsite', kind: 'backup', trigger: 'schedule', status: 'running', startedAt: '2026-12-02T10:00:00Z', finishedAt: null, snapshotId: null, summary: null, error: null });
    expect(await state.markRunningInterrupted('2026-12-02T10:05:00Z')).toBe(1);
    expect((await state.listRuns('offsite', 10))[0]).toMatchObject({ status: 'failed', error: 'Interrupted by a shutdown.' });
    await state.addRecoveryPoint({ id: 'a'.repeat(64), repositoryId: 'offsite', snapshotId: 'a'.repeat(64), package: 'acme/model', version: '1.0.0', note: 'Before production deployment', createdAt: '2026-12-02T10:00:00Z', releasedAt: null });
    await state.releaseRecoveryPoint('a'.repeat(64), '2026-12-03T00:00:00Z');
    expect(await state.listRecoveryPoints(false)).toEqual([]);
    expect((await state.listRecoveryPoints(true))[0]?.releasedAt).toBe('2026-12-03T00:00:00Z');
    const schedules = new SqliteScheduleStateStore(db);
    await schedules.anchor('backup:offsite', '2026-12-02T10:00:00Z');
    await schedules.anchor('backup:offsite', '2026-12-09T10:00:00Z');
    await schedules.recordStart('backup:offsite', '2026-12-03T03:00:00Z');
    expect(await schedules.read('backup:offsite')).toEqual({ anchorAt: '2026-12-02T10:00:00Z', lastRunAt: '2026-12-03T03:00:00Z' });
    expect(() => db.prepare(`INSERT INTO backup_runs (job_id, repository_id, kind, trigger, status, started_at) VALUES ('x', 'r', 'copy', 'manual', 'running', 'now')`).run()).toThrow(/CHECK/);
  });
});
