import { z } from 'zod';
import { DepotError } from '../../shared/errors';
import { replicationNodeChangeSchema, replicationNodeIdSchema, replicationRuleChangeSchema, writeReplicationSection } from '../../shared/domain/replication';
import type { ReplicationService } from '../services/replication/replication-service';
import type { RegistryAuthorizer } from '../services/registry/registry-authorizer';
import { clientAddressOf, type ApiRouteHandler } from './http-host';
import { requireMethod, sendError, sendJson } from './http-json';
import { readJsonBody } from './json-body';

export interface ReplicationRoutesOptions {
  replication: ReplicationService;
  authorizer: RegistryAuthorizer;
}

const verifyBodySchema = z.object({ deep: z.boolean().default(false), node: replicationNodeIdSchema.optional(), repair: z.boolean().default(true) }).strict();
const retryBodySchema = z.object({ node: replicationNodeIdSchema.optional() }).strict();
const prefix = '/api/v1/replication';

/**
 * `/api/v1/replication/…`: status (nodes, lag, queue depth, alerts), nodes, rules, the queue and its
 * retry, per-version placement, and anti-entropy verify. Reading needs `ViewStats`; changing
 * anything (nodes and rules added, updated or removed; retry; verify) needs `ManageInfrastructure`; a version's placement needs `ViewMetadata` on its package.
 */
export function createReplicationRoutes(options: ReplicationRoutesOptions): ApiRouteHandler {
  const { authorizer } = options;
  return async (request, response, url) => {
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return false;
    try {
      const method = request.method ?? 'GET';
      const principal = authorizer.authenticate(request.headers.authorization, clientAddressOf(request));
      const replication = options.replication;
      const rest = url.pathname.slice(prefix.length);
      const placement = /^\/placement\/(.+)\/([^/]+)$/.exec(rest);
      if (placement?.[1] !== undefined && placement[2] !== undefined) {
        requireMethod(method, ['GET']);
        const name = decodeURIComponent(placement[1]);
        authorizer.authorize(principal, 'read', name);
        sendJson(response, 200, await replication.placement(name, decodeURIComponent(placement[2])));
        return true;
      }
      switch (rest) {
        case '/status':
          requireMethod(method, ['GET']);
          authorizer.authorize(principal, 'ViewStats');
          sendJson(response, 200, await replication.status());
          return true;
        case '/nodes':
          requireMethod(method, ['GET', 'POST']);
          if (method === 'POST') {
            authorizer.authorize(principal, 'ManageInfrastructure');
            const section = await replication.changeNode(await readJsonBody(request, replicationNodeChangeSchema));
            sendJson(response, 200, { nodes: section.nodes });
            return true;
          }
          authorizer.authorize(principal, 'ViewStats');
          sendJson(response, 200, { nodes: (await replication.status()).nodes });
          return true;
        case '/rules': {
          requireMethod(method, ['GET', 'POST']);
          authorizer.authorize(principal, method === 'POST' ? 'ManageInfrastructure' : 'ViewStats');
          const section = method === 'POST' ? await replication.changeRule(await readJsonBody(request, replicationRuleChangeSchema)) : writeReplicationSection(replication.section);
          sendJson(response, 200, { rules: section.rules, consistency: section.consistency, replication_factor: section.replication_factor });
          return true;
        }
        case '/queue': {
          requireMethod(method, ['GET']);
          authorizer.authorize(principal, 'ViewStats');
          const node = url.searchParams.get('node');
          const limitText = url.searchParams.get('limit') ?? '500';
          if (!/^\d{1,5}$/.test(limitText)) throw new DepotError('VALIDATION_FAILED', 'limit must be a whole number up to 99999.');
          sendJson(response, 200, { tasks: await replication.listQueue({ ...(node ? { nodeId: node } : {}), limit: Number(limitText) }) });
          return true;
        }
        case '/queue/retry': {
          requireMethod(method, ['POST']);
          authorizer.authorize(principal, 'ManageInfrastructure');
          const body = await readJsonBody(request, retryBodySchema);
          sendJson(response, 200, { retried: await replication.retry(body.node) });
          return true;
        }
        case '/verify': {
          requireMethod(method, ['POST']);
          authorizer.authorize(principal, 'ManageInfrastructure');
          const body = await readJsonBody(request, verifyBodySchema);
          sendJson(response, 200, await replication.verify({ deep: body.deep, repair: body.repair, ...(body.node ? { nodeId: body.node } : {}) }));
          return true;
        }
        default:
          throw new DepotError('NOT_FOUND', `No replication resource ${rest || '/'}.`);
      }
    } catch (error) {
      sendError(response, error);
    }
    return true;
  };
}
