import type { IncomingMessage } from 'node:http';
import type { Permission } from '../../shared/domain/access';
import type { AccessContext } from '../services/access/access-control';
import type { RegistryAuthorizer } from '../services/registry/registry-authorizer';
import { carriesSession } from './http-host';

/** Bearer keys authenticate; the app's own UI (session cookie) reads as the local user. Then `permission` is enforced. */
export function authorizeApiCall(authorizer: RegistryAuthorizer, request: IncomingMessage, permission: Permission): AccessContext {
  const source = request.socket.remoteAddress ?? null;
  const authenticated = authorizer.authenticate(request.headers.authorization, source);
  const isRead = request.method === 'GET' || request.method === 'HEAD';
  const principal = authenticated.kind === 'anonymous' && isRead && carriesSession(request) ? authorizer.access.localPrincipal() : authenticated;
  authorizer.authorize(principal, permission);
  return { principal, source };
}
