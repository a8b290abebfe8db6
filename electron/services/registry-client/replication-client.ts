import { z } from 'zod';
import {
  replicaPlacementSchema,
  replicationConflictSchema,
  type ReplicationConflict,
  replicationRuleSchema,
  replicationStatusSchema,
  replicationTaskSchema,
  verifyReportSchema,
  type ReplicaPlacement,
  type ReplicationStatus,
  type ReplicationTask,
  type VerifyReport,
} from '../../../shared/domain/replication';
import type { RegistryClient } from './registry-client';

const rulesAnswerSchema = z.object({ rules: z.array(replicationRuleSchema), consistency: z.string(), replication_factor: z.number().int() });

/** Client of a registry's replication API (`/api/v1/replication/…`), over RegistryClient's HTTP. */
export class ReplicationClient {
  constructor(private readonly client: RegistryClient) {}

  status(): Promise<ReplicationStatus> {
    return this.client.sendJson('GET', '/replication/status', replicationStatusSchema, 'Replication status');
  }

  rules(): Promise<z.infer<typeof rulesAnswerSchema>> {
    return this.client.sendJson('GET', '/replication/rules', rulesAnswerSchema, 'Replication rules');
  }

  async queue(node?: string): Promise<ReplicationTask[]> {
    const query = node ? `?node=${encodeURIComponent(node)}` : '';
    return (await this.client.sendJson('GET', `/replication/queue${query}`, z.object({ tasks: z.array(replicationTaskSchema) }), 'Replication queue')).tasks;
  }

  async retry(node?: string): Promise<number> {
    return (await this.client.sendJson('POST', '/replication/queue/retry', z.object({ retried: z.number().int() }), 'Replication retry', { body: node ? { node } : {} })).retried;
  }

  verify(options: { deep: boolean; node?: string }): Promise<VerifyReport> {
    return this.client.sendJson('POST', '/replication/verify', verifyReportSchema, 'Replication verify', { body: { deep: options.deep, ...(options.node ? { node: options.node } : {}) } });
  }

  /** `POST /replication/nodes`: `{node}` adds or updates, `{remove}` removes; answers the nodes as stored. */
  async changeNodes(body: { node: Record<string, unknown> } | { remove: string }): Promise<Array<Record<string, unknown>>> {
    return (await this.client.sendJson('POST', '/replication/nodes', z.object({ nodes: z.array(z.record(z.string(), z.unknown())) }), 'Replication nodes', { body })).nodes;
  }

  /** `POST /replication/rules`: `{rule}` adds or updates, `{remove}` removes. */
  async changeRules(body: { rule: Record<string, unknown> } | { remove: string }): Promise<Array<Record<string, unknown>>> {
    return (await this.client.sendJson('POST', '/replication/rules', z.object({ rules: z.array(z.record(z.string(), z.unknown())) }), 'Replication rules', { body })).rules;
  }

  async conflicts(): Promise<ReplicationConflict[]> {
    return (await this.client.sendJson('GET', '/replication/conflicts', z.object({ conflicts: z.array(replicationConflictSchema) }), 'Replication conflicts')).conflicts;
  }

  resolve(id: number, body: { policy?: string; winner?: string }): Promise<ReplicationConflict> {
    return this.client.sendJson('POST', `/replication/conflicts/${id}/resolve`, replicationConflictSchema, `Resolving conflict ${id}`, { body });
  }

  placement(name: string, version: string): Promise<ReplicaPlacement> {
    return this.client.sendJson('GET', `/replication/placement/${name.split('/').map(encodeURIComponent).join('/')}/${encodeURIComponent(version)}`, replicaPlacementSchema, `Placement of ${name}@${version}`);
  }
}
