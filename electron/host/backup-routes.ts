import type { IncomingMessage, ServerResponse } from 'node:http';
import { DepotError } from '../../shared/errors';
import {
  backupRepositorySchema,
  forgetRequestSchema,
  pruneRequestSchema,
  recoveryPointRequestSchema,
  restoreRequestSchema,
  runBackupRequestSchema,
  verifyRequestSchema,
} from '../../shared/domain/backup';
import type { AccessContext } from '../services/access/access-control';
import type { BackupService } from '../services/backup/backup-service';
import type { JobRunner } from '../services/jobs/job-runner';
import type { RegistryAuthorizer } from '../services/registry/registry-authorizer';
import type { Core } from '../services/composition-root';
import type { ApiRouteHandler } from './http-host';
import { authorizeApiCall } from './api-call-authorization';
import { prefixedApiRoute } from './prefixed-api-route';
import { readJsonBody } from './json-body';
import { requireMethod, sendJson } from './http-json';

export interface BackupRouteOptions {
  backups: BackupService;
  jobs: JobRunner;
  authorizer: RegistryAuthorizer;
}

const idPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
const jobIdPattern = /^[0-9a-f-]{8,64}$/;

function segment(value: string | undefined, pattern: RegExp, what: string): string {
  const decoded = decodeURIComponent(value ?? '');
  if (!pattern.test(decoded)) throw new DepotError('VALIDATION_FAILED', `"${decoded.slice(0, 80)}" is not a ${what}.`, { reason: 'bad-id' });
  return decoded;
}

/**
 * `/api/v1/backups/…`: repositories, runs, snapshots, diff, verify, restore, forget (dry run first),
 * prune, recovery points and backup jobs. Everything needs ManageBackups (snapshots name every package,
 * private ones too); the app's own UI (session cookie) reads as the local user.
 */
export function createBackupRoutes(options: BackupRouteOptions): ApiRouteHandler {
  const { backups, jobs, authorizer } = options;
  const { access } = authorizer;
  const allow = (request: IncomingMessage): AccessContext => authorizeApiCall(authorizer, request, 'ManageBackups');
  const accepted = (response: ServerResponse, job: { record: { id: string } } & object, body: unknown): void => {
    sendJson(response, 202, body, { Location: `/api/v1/backups/jobs/${job.record.id}` });
  };

  return prefixedApiRoute('/api/v1/backups', route);

  async function route(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const [area, first, second, third, ...extra] = url.pathname.slice('/api/v1/backups'.length).split('/').filter((part) => part !== '');
    const method = request.method ?? 'GET';
    if (extra.length > 0) throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
    if (area === 'repositories') return repositoryRoutes(request, response, url, method, first, second, third);
    if (area === 'recovery-points') {
      if (third !== undefined) throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
      if (first === undefined) {
        requireMethod(method, ['GET', 'POST']);
        const context = allow(request);
        if (method === 'GET') {
          sendJson(response, 200, { recoveryPoints: await backups.recoveryPoints(url.searchParams.get('released') === 'true') });
          return;
        }
        const body = await readJsonBody(request, recoveryPointRequestSchema);
        const job = await backups.createRecoveryPoint(body);
        access.record(context, 'backup.recovery-point.create', `package:${body.name}`, { version: body.version, repository: body.repository, job: job.record.id });
        accepted(response, job, { job: job.record });
        return;
      }
      const id = segment(first, /^[0-9a-f]{64}$/, 'recovery point id');
      requireMethod(method, ['POST']);
      const context = allow(request);
      if (second === 'release') {
        const point = await backups.releaseRecoveryPoint(id);
        access.record(context, 'backup.recovery-point.release', `package:${point.package}`, { version: point.version, id });
        sendJson(response, 200, point);
        return;
      }
      if (second === 'restore') {
        const job = await backups.restoreRecoveryPoint(id);
        access.record(context, 'backup.recovery-point.restore', null, { id, job: job.record.id });
        accepted(response, job, { job: job.record });
        return;
      }
      throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
    }
    if (area === 'jobs') {
      if (third !== undefined) throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
      if (first === undefined) {
        requireMethod(method, ['GET']);
        allow(request);
        const repository = url.searchParams.get('repository');
        sendJson(response, 200, { runs: await backups.runs(repository === null ? null : segment(repository, idPattern, 'repository id'), Number(url.searchParams.get('limit') ?? 50) || 50) });
        return;
      }
      const jobId = segment(first, jobIdPattern, 'job id');
      if (second === undefined) {
        requireMethod(method, ['GET']);
        allow(request);
        sendJson(response, 200, { job: jobs.get(jobId), progress: backups.progressOf(jobId) });
        return;
      }
      if (second === 'cancel') {
        requireMethod(method, ['POST']);
        const context = allow(request);
        const job = jobs.get(jobId);
        if (!job.kind.startsWith('backup-')) throw new DepotError('NOT_FOUND', `No backup job ${jobId}.`);
        access.record(context, 'backup.cancel', null, { job: jobId });
        sendJson(response, 200, { job: jobs.cancel(jobId) });
        return;
      }
    }
    throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
  }

  async function repositoryRoutes(request: IncomingMessage, response: ServerResponse, url: URL, method: string, first: string | undefined, second: string | undefined, third: string | undefined): Promise<void> {
    if (first === undefined) {
      requireMethod(method, ['GET', 'POST']);
      const context = allow(request);
      if (method === 'GET') {
        sendJson(response, 200, { repositories: await backups.repositories() });
        return;
      }
      const view = await backups.saveRepository(await readJsonBody(request, backupRepositorySchema));
      access.record(context, 'backup.repository.save', `backup:${view.id}`, { repo: view.repo });
      sendJson(response, 201, view, { Location: `/api/v1/backups/repositories/${view.id}` });
      return;
    }
    const id = segment(first, idPattern, 'repository id');
    if (second === undefined) {
      requireMethod(method, ['GET', 'DELETE']);
      const context = allow(request);
      if (method === 'GET') {
        const view = (await backups.repositories()).find((entry) => entry.id === id);
        if (!view) throw new DepotError('NOT_FOUND', `No backup repository "${id}".`, { reason: 'no-backup-repository' });
        sendJson(response, 200, view);
        return;
      }
      await backups.removeRepository(id);
      access.record(context, 'backup.repository.remove', `backup:${id}`);
      sendJson(response, 200, { removed: id });
      return;
    }
    if (second === 'snapshots') {
      requireMethod(method, ['GET']);
      allow(request);
      if (third === undefined) sendJson(response, 200, { snapshots: await backups.snapshots(id) });
      else sendJson(response, 200, await backups.snapshot(id, segment(third, /^[0-9a-f]{4,64}$/, 'snapshot id')));
      return;
    }
    if (third !== undefined) throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
    if (second === 'stats' || second === 'diff') {
      requireMethod(method, ['GET']);
      allow(request);
      if (second === 'stats') {
        sendJson(response, 200, await backups.stats(id));
        return;
      }
      const from = url.searchParams.get('from');
      const to = url.searchParams.get('to');
      if (!from || !to) throw new DepotError('VALIDATION_FAILED', 'diff needs ?from=SNAPSHOT&to=SNAPSHOT.');
      sendJson(response, 200, await backups.diff(id, from, to));
      return;
    }
    requireMethod(method, ['POST']);
    const context = allow(request);
    switch (second) {
      case 'init': {
        const result = await backups.initRepository(id);
        access.record(context, 'backup.init', `backup:${id}`, { created: result.created });
        sendJson(response, result.created ? 201 : 200, result);
        return;
      }
      case 'run': {
        const job = await backups.startBackup(id, await readJsonBody(request, runBackupRequestSchema));
        access.record(context, 'backup.run', `backup:${id}`, { job: job.record.id });
        accepted(response, job, { job: job.record });
        return;
      }
      case 'verify': {
        const job = await backups.startVerify(id, await readJsonBody(request, verifyRequestSchema));
        access.record(context, 'backup.verify', `backup:${id}`, { job: job.record.id });
        accepted(response, job, { job: job.record });
        return;
      }
      case 'prune': {
        const job = await backups.startPrune(id, await readJsonBody(request, pruneRequestSchema));
        access.record(context, 'backup.prune', `backup:${id}`, { job: job.record.id });
        accepted(response, job, { job: job.record });
        return;
      }
      case 'forget': {
        const result = await backups.forget(id, await readJsonBody(request, forgetRequestSchema));
        if (!result.job) {
          sendJson(response, 200, { dryRun: true, groups: result.groups });
          return;
        }
        access.record(context, 'backup.forget', `backup:${id}`, { job: result.job.record.id });
        accepted(response, result.job, { dryRun: false, job: result.job.record });
        return;
      }
      case 'restore': {
        const job = await backups.startRestore(id, await readJsonBody(request, restoreRequestSchema));
        access.record(context, 'backup.restore', `backup:${id}`, { job: job.record.id });
        accepted(response, job, { job: job.record });
        return;
      }
      default:
        throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
    }
  }
}

export function createCoreBackupRoutes(core: Pick<Core, 'backups' | 'jobs' | 'authorizer'>): ApiRouteHandler {
  return createBackupRoutes({ backups: core.backups, jobs: core.jobs, authorizer: core.authorizer });
}
