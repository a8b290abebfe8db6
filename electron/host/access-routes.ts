import type { IncomingMessage, ServerResponse } from 'node:http';
import { DepotError } from '../../shared/errors';
import {
  createGrantRequestSchema,
  createKeyRequestSchema,
  createRoleRequestSchema,
  createUserRequestSchema,
  updateRoleRequestSchema,
  updateUserRequestSchema,
  type AuditFilter,
} from '../../shared/domain/access';
import { toJsonLines, type AccessContext, type AccessControl } from '../services/access/access-control';
import { readJsonBody } from './json-body';
import { requireMethod, sendJson } from './http-json';

export interface AccessRequest {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  method: string;
  resource: string | undefined;
  rest: string[];
  /** Authenticates the request (once asked); 401/429 are thrown from here. */
  context: () => AccessContext;
}

/**
 * `/api/v1/users|roles|keys|whoami|audit`: access control's HTTP API. Every call needs
 * ManageSecurity (AccessControl enforces it), except whoami (any valid key). Returns false for
 * paths that are not its own.
 */
export function createAccessRoutes(access: AccessControl): (call: AccessRequest) => Promise<boolean> {
  return async ({ request, response, url, method, resource, rest, context }) => {
    if (resource === 'whoami' && rest.length === 0) {
      requireMethod(method, ['GET']);
      const { principal } = context();
      if (principal.kind === 'anonymous') throw new DepotError('UNAUTHORIZED', 'whoami needs an API key.');
      sendJson(response, 200, access.whoami(principal));
      return true;
    }
    if (resource === 'users') return users(request, response, method, rest, context);
    if (resource === 'roles') return roles(request, response, method, rest, context);
    if (resource === 'keys') return keys(request, response, url, method, rest, context);
    if (resource === 'audit' && rest.length === 0) {
      requireMethod(method, ['GET']);
      const filter = auditFilter(url);
      const events = access.audit(context(), filter);
      if (url.searchParams.get('format') === 'jsonl') {
        const text = toJsonLines(events);
        response.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
        response.end(text);
        return true;
      }
      sendJson(response, 200, { events });
      return true;
    }
    return false;
  };

  async function users(request: IncomingMessage, response: ServerResponse, method: string, rest: string[], context: () => AccessContext): Promise<boolean> {
    const [id, sub, grantId, ...extra] = rest;
    if (extra.length > 0) return false;
    if (id === undefined) {
      requireMethod(method, ['GET', 'POST']);
      const ctx = context();
      if (method === 'GET') {
        sendJson(response, 200, { users: access.listUsers(ctx) });
        return true;
      }
      // Refuse before reading a byte of the body.
      access.enforce(ctx.principal, 'ManageSecurity');
      sendJson(response, 201, access.createUser(ctx, await readJsonBody(request, createUserRequestSchema)));
      return true;
    }
    if (sub === undefined) {
      requireMethod(method, ['PATCH']);
      const ctx = context();
      access.enforce(ctx.principal, 'ManageSecurity');
      sendJson(response, 200, access.updateUser(ctx, id, await readJsonBody(request, updateUserRequestSchema)));
      return true;
    }
    if (sub !== 'grants') return false;
    if (grantId === undefined) {
      requireMethod(method, ['GET', 'POST']);
      const ctx = context();
      if (method === 'GET') {
        sendJson(response, 200, { grants: access.grantsOf(ctx, id) });
        return true;
      }
      access.enforce(ctx.principal, 'ManageSecurity');
      const body = await readJsonBody(request, createGrantRequestSchema);
      sendJson(response, 201, access.grantUserRole(ctx, id, body.role, body.scope));
      return true;
    }
    requireMethod(method, ['DELETE']);
    access.revokeGrant(context(), id, grantId);
    response.writeHead(204).end();
    return true;
  }

  async function roles(request: IncomingMessage, response: ServerResponse, method: string, rest: string[], context: () => AccessContext): Promise<boolean> {
    const [name, ...extra] = rest;
    if (extra.length > 0) return false;
    const ctx = context();
    if (name === undefined) {
      requireMethod(method, ['GET', 'POST']);
      if (method === 'GET') {
        sendJson(response, 200, { roles: access.listRoles(ctx) });
        return true;
      }
      access.enforce(ctx.principal, 'ManageSecurity');
      const body = await readJsonBody(request, createRoleRequestSchema);
      sendJson(response, 201, access.createRole(ctx, body.name, body.permissions));
      return true;
    }
    requireMethod(method, ['PATCH', 'DELETE']);
    if (method === 'DELETE') {
      access.deleteRole(ctx, name);
      response.writeHead(204).end();
      return true;
    }
    access.enforce(ctx.principal, 'ManageSecurity');
    sendJson(response, 200, access.updateRole(ctx, name, (await readJsonBody(request, updateRoleRequestSchema)).permissions));
    return true;
  }

  async function keys(request: IncomingMessage, response: ServerResponse, url: URL, method: string, rest: string[], context: () => AccessContext): Promise<boolean> {
    const [id, ...extra] = rest;
    if (extra.length > 0) return false;
    const ctx = context();
    if (id === undefined) {
      requireMethod(method, ['GET', 'POST']);
      if (method === 'GET') {
        sendJson(response, 200, { keys: access.listKeys(ctx, url.searchParams.get('user_id') ?? undefined) });
        return true;
      }
      access.enforce(ctx.principal, 'ManageSecurity');
      const body = await readJsonBody(request, createKeyRequestSchema);
      const created = access.createKey(ctx, {
        userId: body.user_id,
        ...(body.label !== undefined ? { label: body.label } : {}),
        ...(body.expires_at !== undefined ? { expiresAt: body.expires_at } : {}),
        ...(body.permissions !== undefined ? { permissions: body.permissions } : {}),
      });
      sendJson(response, 201, created);
      return true;
    }
    requireMethod(method, ['DELETE']);
    access.revokeKey(ctx, id);
    response.writeHead(204).end();
    return true;
  }
}

function auditFilter(url: URL): AuditFilter {
  const filter: AuditFilter = {};
  const since = url.searchParams.get('since');
  const actor = url.searchParams.get('actor');
  const action = url.searchParams.get('action');
  const limit = url.searchParams.get('limit');
  if (since) filter.since = since.slice(0, 40);
  if (actor) filter.actor = actor.slice(0, 200);
  if (action) filter.action = action.slice(0, 100);
  if (limit) {
    if (!/^\d{1,5}$/.test(limit) || Number(limit) < 1 || Number(limit) > 10_000) throw new DepotError('VALIDATION_FAILED', 'limit must be a whole number from 1 to 10000.');
    filter.limit = Number(limit);
  }
  return filter;
}
