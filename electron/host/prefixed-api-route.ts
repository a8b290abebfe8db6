import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiRouteHandler } from './http-host';
import { discardUnreadBody, sendError } from './http-json';

/**
 * An API handler for everything under `prefix` (`/api/v1/cdn` and `/api/v1/cdn/…`): errors become the
 * typed JSON envelope, and an unread request body is drained so the connection stays usable.
 */
export function prefixedApiRoute(prefix: string, route: (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>): ApiRouteHandler {
  return async (request, response, url) => {
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return false;
    try {
      await route(request, response, url);
    } catch (error) {
      const bodyUnread = request.method !== 'GET' && request.method !== 'HEAD' && !request.readableEnded;
      sendError(response, error);
      if (bodyUnread) discardUnreadBody(request);
    }
    return true;
  };
}
