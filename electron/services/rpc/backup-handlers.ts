import type { Core } from '../composition-root';
import type { RequestHandlers } from './request-router';

type BackupChannel = Extract<keyof RequestHandlers, `backups.${string}`>;

/** The `backups.*` channels. */
export function createBackupHandlers(core: Omit<Core, 'router'>): Pick<RequestHandlers, BackupChannel> {
  const { backups } = core;
  return {
    'backups.repositories.list': () => backups.repositories(),
    'backups.repositories.save': ({ repository }) => backups.saveRepository(repository),
    'backups.repositories.remove': async ({ id }) => {
      await backups.removeRepository(id);
      return {};
    },
    'backups.repositories.init': ({ id }) => backups.initRepository(id),
    'backups.snapshots': ({ id }) => backups.snapshots(id),
    'backups.stats': ({ id }) => backups.stats(id),
    'backups.diff': ({ id, from, to }) => backups.diff(id, from, to),
    'backups.run': async ({ id, request }) => (await backups.startBackup(id, request)).record,
    'backups.verify': async ({ id, request }) => (await backups.startVerify(id, request)).record,
    'backups.forget': async ({ id, request }) => {
      const result = await backups.forget(id, request);
      return { dryRun: result.dryRun, groups: result.groups, job: result.job?.record ?? null };
    },
    'backups.prune': async ({ id, request }) => (await backups.startPrune(id, request)).record,
    'backups.restore': async ({ id, request }) => (await backups.startRestore(id, request)).record,
    'backups.restoreVersion': async ({ id, snapshot, name, version }) => (await backups.startVersionRestore(id, snapshot, name, version)).record,
    'backups.runs': ({ id, limit }) => backups.runs(id, limit),
    'backups.progress': ({ jobId }) => Promise.resolve(backups.progressOf(jobId)),
    'backups.recoveryPoints.list': ({ includeReleased }) => backups.recoveryPoints(includeReleased),
    'backups.recoveryPoints.create': async (request) => (await backups.createRecoveryPoint(request)).record,
    'backups.recoveryPoints.release': ({ id }) => backups.releaseRecoveryPoint(id),
    'backups.recoveryPoints.restore': async ({ id }) => (await backups.restoreRecoveryPoint(id)).record,
  };
}
