import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { DepotError } from '../../shared/errors';
import { replicaMetaRecordSchema, replicationNodeChangeSchema, replicationNodeIdSchema, replicationRuleChangeSchema, writeReplicationSection } from '../../shared/domain/replication';
import type { ReplicationService } from '../services/replication/replication-service';
import { recordText } from '../services/replication/replica-node';
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
const maxRecordBytes = 1024 * 1024;

/**
 * A registry peer receiving a copy (`PUT /api/v1/replication/replica/<key>`, `Replicate`): the keys
 * of a storage node, applied to this registry — blobs into its blob store (digest checked), records
 * in version-vector order (see PeerReceiver). Answers with what it holds: size and SHA-256.
 */
async function receiveReplica(replication: ReplicationService, key: string, method: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  requireMethod(method, ['PUT']);
  const target = replication.peerTargetOrFail();
  const blob = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(key);
  if (blob?.[1] !== undefined) {
    sendJson(response, 200, await replication.peers.receiveBlob(target, blob[1], request));
    return;
  }
  const meta = /^meta\/(.+)\/([^/]+)\.json$/.exec(key);
  if (meta?.[1] !== undefined && meta[2] !== undefined) {
    const record = await readJsonBody(request, replicaMetaRecordSchema, maxRecordBytes);
    if (record.name !== decodeURIComponent(meta[1]) || record.version !== meta[2]) throw new DepotError('VALIDATION_FAILED', `The record at ${key} is not a replica record of that version.`);
    const outcome = await replication.peers.receiveRecord(target, record);
    // What the peer holds: the record as a replica writes it.
    const text = recordText(record);
    sendJson(response, 200, { size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex'), outcome });
    return;
  }
  // Signatures and commit markers travel inside the record; they are acknowledged as received.
  if (/^blobs\/sha256\/[0-9a-f]{64}\.minisig$/.test(key) || /^commits\/.+\.json$/.test(key)) {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > maxRecordBytes) throw new DepotError('PAYLOAD_TOO_LARGE', `${key} is larger than ${maxRecordBytes} bytes.`);
      hash.update(chunk as Buffer);
    }
    sendJson(response, 200, { size, sha256: hash.digest('hex') });
    return;
  }
  throw new DepotError('NOT_FOUND', `No replica key ${key}.`);
}

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
      if (rest.startsWith('/replica/')) {
        authorizer.authorize(principal, 'Replicate');
        await receiveReplica(replication, rest.slice('/replica/'.length), method, request, response);
        return true;
      }
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
