import type { Core } from '../services/composition-root';
import { DepotError } from '../../shared/errors';
import type { ApiRouteHandler } from './http-host';
import { discardUnreadBody, sendError, sendJson } from './http-json';

/**
 * `PUT /session/staging?filename=…`: the browser UI uploads a dropped package here (with upload
 * progress from XHR), then inspects and publishes it through the contract.
 */
export function createStagingRoutes(core: Core): ApiRouteHandler {
  return async (request, response, url) => {
    if (url.pathname !== '/session/staging') return false;
    try {
      if (request.method !== 'PUT') throw new DepotError('VALIDATION_FAILED', 'Use PUT to stage a package.', { reason: 'method-not-allowed' });
      const limit = core.settings.get().registry.maxPackageBytes;
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > limit) throw new DepotError('PAYLOAD_TOO_LARGE', `The package (${declared} bytes) is larger than the limit of ${limit} bytes.`);
      const aborted = new AbortController();
      request.on('close', () => {
        if (!request.readableEnded) aborted.abort(new DepotError('CANCELLED', 'Upload cancelled.'));
      });
      const staged = await core.staging.stageStream(request, url.searchParams.get('filename') ?? 'package.torshpkg', aborted.signal);
      sendJson(response, 201, staged);
    } catch (error) {
      const unread = !request.readableEnded;
      sendError(response, error);
      if (unread) discardUnreadBody(request);
    }
    return true;
  };
}
