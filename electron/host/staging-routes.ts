import type { Core } from '../services/composition-root';
import { DepotError } from '../../shared/errors';
import type { ApiRouteHandler } from './http-host';
import { discardUnreadBody, sendError, sendJson } from './http-json';

const folderFilePath = /^\/session\/staging\/folders\/([0-9a-f]{32})\/files$/;

/**
 * `PUT /session/staging?filename=…`: the browser UI uploads a dropped package here (with upload
 * progress from XHR), then inspects and publishes it through the contract.
 * `PUT /session/staging/folders/{id}/files?path=…`: one file of a dropped folder (the folder upload
 * is opened with `packages.createFolderUpload`, then inspected and packed through the contract).
 */
export function createStagingRoutes(core: Core): ApiRouteHandler {
  return async (request, response, url) => {
    const folderFile = folderFilePath.exec(url.pathname);
    if (url.pathname !== '/session/staging' && !folderFile) return false;
    try {
      if (request.method !== 'PUT') throw new DepotError('VALIDATION_FAILED', 'Use PUT to upload.', { reason: 'method-not-allowed' });
      const limit = core.settings.get().registry.maxPackageBytes;
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > limit) throw new DepotError('PAYLOAD_TOO_LARGE', `The upload (${declared} bytes) is larger than the package limit of ${limit} bytes.`);
      const aborted = new AbortController();
      request.on('close', () => {
        if (!request.readableEnded) aborted.abort(new DepotError('CANCELLED', 'Upload cancelled.'));
      });
      if (folderFile?.[1]) {
        const received = await core.stagedFolders.receiveFile(folderFile[1], url.searchParams.get('path') ?? '', request, aborted.signal);
        sendJson(response, 201, received);
      } else {
        const staged = await core.staging.stageStream(request, url.searchParams.get('filename') ?? 'package.torshpkg', aborted.signal);
        sendJson(response, 201, staged);
      }
    } catch (error) {
      const unread = !request.readableEnded;
      sendError(response, error);
      if (unread) discardUnreadBody(request);
    }
    return true;
  };
}
