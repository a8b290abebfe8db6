import { afterEach, describe, expect, it } from 'vitest';
import { createReadStream, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { BackupService } from '../../../electron/services/backup/backup-service';
import { SqliteBackupStateRepository } from '../../../electron/services/backup/backup-state-repository';
import { CronScheduler, SqliteScheduleStateStore } from '../../../electron/services/jobs/cron-scheduler';
import { LocalStorage } from '../../../electron/services/storage/local-storage';
import path from 'node:path';
import { depotConfigSchema } from '../../../shared/domain/depot-config';
import { applyDepotConfig } from '../../../electron/services/config/apply-depot-config';
import { receiveUpload } from '../../../electron/services/registry/upload-receiver';
import { recoveryPointTag } from '../../../electron/services/backup/retention-policy';
import type { Core } from '../../../electron/services/composition-root';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';
import { newTestCore } from '../../support/test-core';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function publish(core: Core, work: string, name: string, version: string): Promise<void> {
  const file = await makeTestPackage(work, { name, version, files: { 'models/weights.pt': 300_000, 'config/model.yaml': `version: ${version}\n` } });
  await core.registry.publishUpload(await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'test' });
}

async function setUp(): Promise<{ core: Core; repoDir: string }> {
  const { core, work } = newTestCore(cleanups);
  await publish(core, work, 'acme/model', '1.0.0');
  await publish(core, work, 'acme/model', '1.1.0');
  await publish(core, work, 'other/thing', '2.0.0');
  const repo = makeTempDir('torsh-backup-service-repo-');
  cleanups.push(repo.cleanup);
  process.env.H17_TEST_BACKUP_PASSPHRASE = 'correct horse battery staple';
  // Through the depot.yaml applier, as `serve --config` does.
  const config = depotConfigSchema.parse({ backup: { repositories: [{ id: 'local', repo: `file://${repo.dir}`, passphrase: '${H17_TEST_BACKUP_PASSPHRASE}', strategy: 'incremental' }] } });
  const applied = await applyDepotConfig(core, config, work);
  expect(applied.applied).toEqual(['backup']);
  return { core, repoDir: repo.dir };
}

describe('BackupService (core.backups)', () => {
  it('backs up a set by name glob and the whole registry as jobs with progress, and records the runs', async () => {
    const { core } = await setUp();
    expect((await core.backups.repositories()).map((entry) => [entry.id, entry.origin])).toEqual([['local', 'config']]);
    const progress: string[] = [];
    const off = core.events.subscribe((event, payload) => {
      if (event !== 'jobs.updated') return;
      const job = payload as { kind: string; message: string | null };
      if (job.kind === 'backup-backup' && job.message) progress.push(job.message);
    });
    cleanups.push(off);
    const set = await core.backups.startBackup('local', { set: { kind: 'packages', glob: 'acme/*', visibility: 'any' } });
    const summary = await set.done;
    expect(summary.source).toEqual({ kind: 'set', label: 'acme/* (any)' });
    expect(summary.fileCount).toBe(4);
    expect(progress.some((message) => /files · .* read · .* new/.test(message))).toBe(true);
    const whole = await (await core.backups.startBackup('local', {})).done;
    expect(whole.source.kind).toBe('registry');
    const snapshot = await core.backups.snapshot('local', whole.id);
    expect(snapshot.files.map((file) => file.path)).toContain('torsh-depot.sqlite');
    const runs = await core.backups.runs('local');
    expect(runs.map((run) => [run.kind, run.status, run.snapshotId])).toEqual([
      ['backup', 'succeeded', whole.id],
      ['backup', 'succeeded', summary.id],
    ]);
    expect((await core.backups.stats('local')).snapshots).toBe(2);
    const dry = await core.backups.forget('local', { keep: { last: 1 }, dryRun: true });
    expect(dry.groups.flatMap((group) => group.remove.map((entry) => entry.id))).toEqual([]);
    await expect(core.backups.startBackup('local', { set: { kind: 'packages', glob: 'nothing-*', visibility: 'any' } }).then((job) => job.done)).rejects.toMatchObject({ reason: 'empty-set' });
    expect((await core.backups.runs('local'))[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/No version matches/) });
  });

  it('creates a recovery point and restores the version\'s yank state and visibility into the live registry', async () => {
    const { core } = await setUp();
    const point = await (await core.backups.createRecoveryPoint({ repository: 'local', name: 'acme/model', version: '1.0.0', note: 'Before production deployment' })).done;
    expect(point).toMatchObject({ package: 'acme/model', version: '1.0.0', note: 'Before production deployment', releasedAt: null });
    const snapshot = await core.backups.snapshot('local', point.snapshotId);
    expect(snapshot.tags).toEqual([recoveryPointTag]);
    const visibilityBefore = core.access.listPackageAccess(core.access.localContext()).find((entry) => entry.name === 'acme/model')?.visibility;

    core.registry.setYanked('acme/model', '1.0.0', true);
    core.access.setPackageAccess(core.access.localContext(), 'acme/model', { visibility: visibilityBefore === 'private' ? 'public' : 'private' });
    const restored = await (await core.backups.restoreRecoveryPoint(point.id)).done;
    expect(restored).toMatchObject({ name: 'acme/model', version: '1.0.0', republished: false, yanked: false, visibility: visibilityBefore });
    expect(core.registry.getVersion('acme/model', '1.0.0').yanked).toBe(false);
    expect(core.access.listPackageAccess(core.access.localContext()).find((entry) => entry.name === 'acme/model')?.visibility).toBe(visibilityBefore);

    const released = await core.backups.releaseRecoveryPoint(point.id);
    expect(released.releasedAt).not.toBeNull();
    expect(await core.backups.recoveryPoints()).toEqual([]);
    const after = await core.backups.snapshots('local');
    expect(after.every((entry) => !entry.tags.includes(recoveryPointTag))).toBe(true);
    await expect(core.backups.restoreRecoveryPoint(point.id)).rejects.toMatchObject({ reason: 'recovery-point-released' });
  });

  it('refuses an inline passphrase, a duplicate id and changes to a depot.yaml-owned repository from the API', async () => {
    const { core, repoDir } = await setUp();
    await expect(core.backups.saveRepository({ id: 'other', repo: `file://${repoDir}`, passphrase: 'hunter2' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(core.backups.saveRepository({ id: 'local', repo: `file://${repoDir}`, passphrase: '${X}' })).rejects.toMatchObject({ reason: 'config-owned' });
    await expect(core.backups.replaceSection({ repositories: [{ id: 'a', repo: 'file:///tmp/a', passphrase: '${X}' }, { id: 'a', repo: 'file:///tmp/b', passphrase: '${X}' }] } as never)).rejects.toMatchObject({ reason: 'duplicate-id' });
    const saved = await core.backups.saveRepository({ id: 'nightly', repo: `file://${path.join(repoDir, 'nightly')}`, passphrase: '${H17_TEST_BACKUP_PASSPHRASE}', schedule: '0 3 * * *' });
    expect(saved.schedules).toEqual([{ key: 'backup:nightly', cron: '0 3 * * *', next: expect.stringMatching(/T03:00:00.000Z$/) }]);
    await core.backups.removeRepository('nightly');
    expect((await core.backups.repositories()).map((entry) => entry.id)).toEqual(['local']);
  });
});

describe('scheduled runs', () => {
  it('runs a scheduled verify from the cron scheduler and raises an alert (notification and error metric) when the repository is damaged', async () => {
    const { core } = await setUp();
    let now = new Date('2026-12-06T04:00:00Z');
    const scheduler = new CronScheduler({ store: new SqliteScheduleStateStore(core.db), logger: core.logger, clock: () => now });
    const notifications: string[] = [];
    const errors: string[] = [];
    const repoDir = makeTempDir('torsh-backup-scheduled-');
    cleanups.push(repoDir.cleanup, () => scheduler.stop());
    const service = new BackupService({
      state: new SqliteBackupStateRepository(core.db),
      jobs: core.jobs,
      scheduler,
      dataDir: core.dataDir,
      tmpDir: core.tmpDir,
      logger: core.logger,
      openStorage: async () => {
        const storage = new LocalStorage(repoDir.dir);
        await storage.init();
        return storage;
      },
      resolveSecret: () => Promise.resolve('scheduled passphrase'),
      registry: core.registry,
      access: core.access,
      notify: (notification) => notifications.push(`${notification.level}: ${notification.title}`),
      recordError: (operation, target, code) => errors.push(`${operation} ${target} ${code}`),
    });
    await service.saveRepository({ id: 'weekly', repo: `file://${repoDir.dir}`, passphrase: '${UNUSED}', verify: { schedule: '0 5 * * 0', readDataSubset: 100 } });
    expect((await service.repositories()).find((entry) => entry.id === 'weekly')?.schedules).toEqual([{ key: 'verify:weekly', cron: '0 5 * * 0', next: '2026-12-06T05:00:00.000Z' }]);
    await (await service.startBackup('weekly', { set: { kind: 'version', name: 'acme/model', version: '1.0.0' } })).done;

    // A byte flips in a pack; the Sunday 05:00 verify reads every pack and finds it.
    const packDir = path.join(repoDir.dir, 'data');
    const sub = readdirSync(packDir)[0] ?? '';
    const pack = path.join(packDir, sub, readdirSync(path.join(packDir, sub))[0] ?? '');
    const bytes = readFileSync(pack);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0xff;
    writeFileSync(pack, bytes);
    now = new Date('2026-12-06T05:00:10Z');
    await scheduler.tick();
    expect(notifications).toEqual(['error: Backup verification failed: weekly']);
    expect(errors).toEqual(['backup-verify weekly VERIFY_FAILED']);
    const runs = await service.runs('weekly');
    expect(runs[0]).toMatchObject({ kind: 'verify', trigger: 'schedule', status: 'failed', error: expect.stringMatching(/has errors/) });
    expect(scheduler.upcoming()[0]?.next).toBe('2026-12-13T05:00:00.000Z');
  });
});
