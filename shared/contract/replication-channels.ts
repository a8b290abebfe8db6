import { z } from 'zod';
import { defineRequests } from './define';
import {
  conflictResolveRequestSchema,
  consistencyLevelSchema,
  replicaPlacementSchema,
  replicationConflictSchema,
  replicationNodeConfigSchema,
  replicationNodeIdSchema,
  replicationNodeStatusSchema,
  replicationRuleSchema,
  replicationStatusSchema,
  replicationTaskSchema,
  verifyReportSchema,
} from '../domain/replication';

/** A rule as in force: `interval` already in milliseconds (never re-read as seconds). */
export const replicationRuleViewSchema = replicationRuleSchema.extend({ interval: z.number().int().min(0).optional() });
export type ReplicationRuleView = z.infer<typeof replicationRuleViewSchema>;

export const replicationRulesViewSchema = z.object({
  replication_factor: z.number().int(),
  consistency: consistencyLevelSchema,
  rules: z.array(replicationRuleViewSchema),
});
export type ReplicationRulesView = z.infer<typeof replicationRulesViewSchema>;

const empty = z.object({}).strict();
const nodes = z.array(replicationNodeStatusSchema);

/** The same names as `/api/v1/replication` and the `replication:` section of depot.yaml. */
export const replicationChannels = defineRequests({
  'replication.status': { input: empty, output: replicationStatusSchema, summary: 'Nodes (status, lag, used bytes), queue depth and alerts.' },
  'replication.nodes': { input: empty, output: nodes, summary: 'Every replication node with its status, lag, queue and used/capacity bytes.' },
  'replication.nodes.save': {
    input: z.object({ node: replicationNodeConfigSchema }).strict(),
    output: nodes,
    summary: 'Add a node, or update the one with that id (POST /api/v1/replication/nodes {node}); checked before anything changes.',
  },
  'replication.nodes.remove': { input: z.object({ id: replicationNodeIdSchema }).strict(), output: nodes, summary: 'Remove a node (POST /api/v1/replication/nodes {remove}).' },
  'replication.rules': { input: empty, output: replicationRulesViewSchema, summary: 'Replication rules, the replication factor and the default consistency level.' },
  'replication.rules.save': { input: z.object({ rule: replicationRuleSchema }).strict(), output: replicationRulesViewSchema, summary: 'Add a rule, or update the one with that name.' },
  'replication.rules.remove': { input: z.object({ name: z.string().min(1).max(63) }).strict(), output: replicationRulesViewSchema, summary: 'Remove a rule by name.' },
  'replication.queue': {
    input: z.object({ node: replicationNodeIdSchema.optional(), limit: z.number().int().min(1).max(99_999).default(500) }).strict(),
    output: z.array(replicationTaskSchema),
    summary: 'Copies waiting, running, held or done: one row per version and node, oldest first.',
  },
  'replication.queue.retry': {
    input: z.object({ node: replicationNodeIdSchema.optional() }).strict(),
    output: z.object({ retried: z.number().int() }),
    summary: 'Try every waiting copy now (of one node, or all), instead of at its next backoff.',
  },
  'replication.placement': {
    input: z.object({ name: z.string().min(1).max(214), version: z.string().min(1).max(128) }).strict(),
    output: replicaPlacementSchema,
    summary: 'Which nodes hold name@version, and the state of each copy.',
  },
  'replication.conflicts': { input: empty, output: z.array(replicationConflictSchema), summary: 'Writes two registries accepted concurrently, resolved or not.' },
  'replication.conflicts.resolve': {
    input: conflictResolveRequestSchema.extend({ id: z.number().int().min(1) }),
    output: replicationConflictSchema,
    summary: 'Resolve a conflict by policy (primary region, first published) or manually by naming the winner; audited.',
  },
  'replication.verify': {
    input: z.object({ deep: z.boolean().default(false), node: replicationNodeIdSchema.optional(), repair: z.boolean().default(true) }).strict(),
    output: verifyReportSchema,
    summary: 'Anti-entropy now (a job): compare each node with what it should hold and repair; deep re-hashes every copy.',
  },
});
