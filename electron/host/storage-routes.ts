import { blobGcRequestSchema } from '../../shared/domain/storage';
import type { Core } from '../services/composition-root';
import type { ApiRouteHandler } from './http-host';
import { discardUnreadBody, requireMethod, sendError, sendJson } from './http-json';
import { readJsonBody } from './json-body';

/**
 * `POST /api/v1/storage/gc` with `{"dry_run": bool, "grace_seconds": int}`: runs the blob garbage
 * collector as a job and answers with its result once it ends (ManageInfrastructure).
 */
export function createStorageRoutes(core: Pick<Core, 'authorizer' | 'startBlobGc'>): ApiRouteHandler {
  return async (request, response, url) => {
    if (url.pathname !== '/api/v1/storage/gc') return false;
    try {
      requireMethod(request.method ?? 'GET', ['POST']);
      const principal = core.authorizer.authenticate(request.headers.authorization, request.socket.remoteAddress ?? null);
      core.authorizer.authorize(principal, 'ManageInfrastructure');
      const body = await readJsonBody(request, blobGcRequestSchema);
      const job = core.startBlobGc(body);
      const result = await job.done;
      sendJson(response, 200, { job_id: job.record.id, ...result });
    } catch (error) {
      const bodyUnread = !request.readableEnded;
      sendError(response, error);
      if (bodyUnread) discardUnreadBody(request);
    }
    return true;
  };
}
