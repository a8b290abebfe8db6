import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Permission } from '../../shared/domain/access';
import type { AccessContext } from '../services/access/access-control';
import type { RegistryAuthorizer } from '../services/registry/registry-authorizer';
import { carriesSession, type ApiRouteHandler } from './http-host';
import { discardUnreadBody, sendError } from './http-json';

/**
 * A group of API routes under `prefix` (`/api/v1/backups`): the handler answers only there, every
 * error becomes the JSON error envelope, and a request body left unread is drained.
 */
export function apiRouteGroup(prefix: string, route: (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>): ApiRouteHandler {
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

/** Bearer keys authenticate; the app's own UI (session cookie) reads as the local user. Then `permission` is enforced. */
export function authorizeApiCall(authorizer: RegistryAuthorizer, request: IncomingMessage, permission: Permission): AccessContext {
  const source = request.socket.remoteAddress ?? null;
  const authenticated = authorizer.authenticate(request.headers.authorization, source);
  const isRead = request.method === 'GET' || request.method === 'HEAD';
  const principal = authenticated.kind === 'anonymous' && isRead && carriesSession(request) ? authorizer.access.localPrincipal() : authenticated;
  authorizer.authorize(principal, permission);
  return { principal, source };
}
