import { z } from 'zod';
import { durationSchema, formatDuration, formatSize, secretReferenceSchema, sizeSchema } from './config-values';
import { visibilitySchema, visibilities, type Visibility } from './access';
import { isKnownRegion } from './regions';

/**
 * The `replication:` section of `depot.yaml` — the same names in the config file, the HTTP API
 * (`/api/v1/replication/…`), the CLI (`replication nodes|rules|status …`, `publish --consistency`)
 * and the Replication screen. Pure types and functions: placement, version vectors, hybrid logical clock.
 */

export const consistencyLevels = ['eventual', 'quorum', 'strong', 'causal'] as const;
export const consistencyLevelSchema = z.enum(consistencyLevels);
export type ConsistencyLevel = z.infer<typeof consistencyLevelSchema>;

export const conflictPolicies = ['primary-region', 'first-published', 'manual'] as const;
export const conflictPolicySchema = z.enum(conflictPolicies);
export type ConflictPolicy = z.infer<typeof conflictPolicySchema>;

export const replicationNodeIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and -');

const storageSchemes = ['file:', 's3:', 'azure:', 'gs:'];
const peerSchemes = ['http:', 'https:'];

/** A storage URL (file://, s3://, azure://, gs://) or, for a registry peer, the peer's http(s):// base URL. */
export const replicationEndpointSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return [...storageSchemes, ...peerSchemes].includes(url.protocol) && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'an endpoint is a storage URL (file://, s3://, azure://, gs://) or a peer http(s):// URL, with no credentials in it');

/** Secrets of one node, each a `${ENV}` or `file:` reference (never inline). */
export const replicationNodeCredentialsSchema = z
  .object({
    access_key_id: secretReferenceSchema.optional(),
    secret_access_key: secretReferenceSchema.optional(),
    session_token: secretReferenceSchema.optional(),
    account_key: secretReferenceSchema.optional(),
    sas_token: secretReferenceSchema.optional(),
    hmac_access_key: secretReferenceSchema.optional(),
    hmac_secret: secretReferenceSchema.optional(),
    /** A registry peer's API key (it must hold the `Replicate` permission). */
    api_key: secretReferenceSchema.optional(),
  })
  .strict();
export type ReplicationNodeCredentials = z.infer<typeof replicationNodeCredentialsSchema>;

export const replicationNodeConfigSchema = z
  .object({
    id: replicationNodeIdSchema,
    /** A region id from the shared region table (`us-east-1`, `europe-west4` …) or `lat,lon`. */
    region: z.string().min(1).max(64).refine(isKnownRegion, 'a region id from the region table (us-east-1, europe-west4, westeurope …) or lat,lon'),
    endpoint: replicationEndpointSchema,
    /** Lower first, as for mirrors. */
    priority: z.number().int().min(0).max(1000).default(1),
    /** Bytes this node may hold; a version that does not fit is placed elsewhere (never overfilled). */
    capacity: sizeSchema.optional(),
    credentials: replicationNodeCredentialsSchema.default({}),
    /** Concurrent transfers to this node. */
    max_transfers: z.number().int().min(1).max(64).default(8),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ReplicationNodeConfig = z.infer<typeof replicationNodeConfigSchema>;
export type ReplicationNodeConfigInput = z.input<typeof replicationNodeConfigSchema>;

export function replicationNodeKind(node: Pick<ReplicationNodeConfig, 'endpoint'>): 'storage' | 'peer' {
  return peerSchemes.includes(new URL(node.endpoint).protocol) ? 'peer' : 'storage';
}

export const replicationTriggers = ['on-publish', 'schedule', 'manual'] as const;

/** Which packages replicate, when and how (as Harbor's replication rules). */
export const replicationRuleSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and -'),
    /** A name glob: `*`, `vision/*`, `resnet-?0`. */
    packages: z.string().min(1).max(200).default('*'),
    visibility: z.enum(['any', ...visibilities]).default('any'),
    /** Every label listed must be on the version (its tags). */
    labels: z.array(z.string().min(1).max(64)).max(20).default([]),
    trigger: z.enum(replicationTriggers).default('on-publish'),
    /** For `trigger: schedule`. */
    interval: durationSchema.optional(),
    direction: z.enum(['push', 'pull']).default('push'),
    consistency: consistencyLevelSchema.optional(),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ReplicationRule = z.infer<typeof replicationRuleSchema>;
export type ReplicationRuleInput = z.input<typeof replicationRuleSchema>;

/** Hints never wait more than 30 s between tries: a node that comes back is caught up quickly. */
export const maxHintBackoffMs = 30_000;

export const replicationSectionSchema = z
  .object({
    /** Copies per version on replication nodes (the registry's own blob store is not counted). */
    replication_factor: z.number().int().min(1).max(16).default(2),
    consistency: consistencyLevelSchema.default('quorum'),
    conflict_policy: conflictPolicySchema.default('manual'),
    /** For `conflict_policy: primary-region`. */
    primary_region: z.string().min(1).max(64).refine(isKnownRegion, 'a region id from the region table or lat,lon').optional(),
    /** This registry's region: reads fail over to the nearest healthy replica from here. */
    region: z.string().min(1).max(64).refine(isKnownRegion, 'a region id from the region table or lat,lon').optional(),
    nodes: z.array(replicationNodeConfigSchema).max(100).default([]),
    rules: z.array(replicationRuleSchema).max(100).default([]),
    hints: z
      .object({
        base_backoff: durationSchema.default(500),
        max_backoff: durationSchema.default(maxHintBackoffMs),
        /** An alert fires when more hints than this wait for one node. */
        alert_over: z.number().int().min(1).default(100),
      })
      .strict()
      .default({ base_backoff: 500, max_backoff: maxHintBackoffMs, alert_over: 100 }),
    /** How long a quorum/strong publish waits for its acknowledgements. */
    ack_timeout: durationSchema.default(60_000),
    anti_entropy_interval: durationSchema.default(3_600_000),
    alerts: z
      .object({ lag_over: durationSchema.default(300_000), hints_over: z.number().int().min(1).default(100) })
      .strict()
      .default({ lag_over: 300_000, hints_over: 100 }),
  })
  .strict()
  .superRefine((section, context) => {
    const seen = new Set<string>();
    section.nodes.forEach((node, index) => {
      if (seen.has(node.id)) context.addIssue({ code: 'custom', path: ['nodes', index, 'id'], message: `node id "${node.id}" is used twice` });
      seen.add(node.id);
    });
    if (section.hints.max_backoff > maxHintBackoffMs) {
      context.addIssue({ code: 'custom', path: ['hints', 'max_backoff'], message: `hints are retried at least every ${maxHintBackoffMs / 1000}s` });
    }
    if (section.conflict_policy === 'primary-region' && section.primary_region === undefined) {
      context.addIssue({ code: 'custom', path: ['primary_region'], message: 'conflict_policy primary-region needs primary_region' });
    }
    section.rules.forEach((rule, index) => {
      if (rule.trigger === 'schedule' && rule.interval === undefined) context.addIssue({ code: 'custom', path: ['rules', index, 'interval'], message: 'a scheduled rule needs an interval' });
    });
  });
export type ReplicationSection = z.infer<typeof replicationSectionSchema>;
export type ReplicationSectionInput = z.input<typeof replicationSectionSchema>;

/**
 * The section as a person writes it (`30s`, `64GiB`): what is stored, what `GET …/nodes|rules`
 * answers and what an export writes, so a value read and sent back is never re-scaled (a bare
 * number in a duration field means seconds).
 */
export function writeReplicationSection(section: ReplicationSection): ReplicationSectionInput {
  return {
    replication_factor: section.replication_factor,
    consistency: section.consistency,
    conflict_policy: section.conflict_policy,
    ...(section.primary_region !== undefined ? { primary_region: section.primary_region } : {}),
    ...(section.region !== undefined ? { region: section.region } : {}),
    nodes: section.nodes.map(writeReplicationNode),
    rules: section.rules.map(writeReplicationRule),
    hints: { base_backoff: formatDuration(section.hints.base_backoff), max_backoff: formatDuration(section.hints.max_backoff), alert_over: section.hints.alert_over },
    ack_timeout: formatDuration(section.ack_timeout),
    anti_entropy_interval: formatDuration(section.anti_entropy_interval),
    alerts: { lag_over: formatDuration(section.alerts.lag_over), hints_over: section.alerts.hints_over },
  };
}

export function writeReplicationNode(node: ReplicationNodeConfig): ReplicationNodeConfigInput {
  return { ...node, credentials: { ...node.credentials }, ...(node.capacity !== undefined ? { capacity: formatSize(node.capacity) } : {}) };
}

export function writeReplicationRule(rule: ReplicationRule): ReplicationRuleInput {
  return { ...rule, labels: [...rule.labels], ...(rule.interval !== undefined ? { interval: formatDuration(rule.interval) } : {}) };
}

/** `POST /api/v1/replication/nodes`: add or update a node (by id), or remove one. */
export const replicationNodeChangeSchema = z
  .object({ node: replicationNodeConfigSchema.optional(), remove: replicationNodeIdSchema.optional() })
  .strict()
  .refine((change) => (change.node === undefined) !== (change.remove === undefined), 'send either node (to add or update) or remove (a node id)');
export type ReplicationNodeChange = z.infer<typeof replicationNodeChangeSchema>;

/** `POST /api/v1/replication/rules`: add or update a rule (by name), or remove one. */
export const replicationRuleChangeSchema = z
  .object({ rule: replicationRuleSchema.optional(), remove: z.string().min(1).max(63).optional() })
  .strict()
  .refine((change) => (change.rule === undefined) !== (change.remove === undefined), 'send either rule (to add or update) or remove (a rule name)');
export type ReplicationRuleChange = z.infer<typeof replicationRuleChangeSchema>;

/** Acknowledgements a level needs before a version becomes visible (eventual and causal: the local commit only). */
export function requiredAcks(level: ConsistencyLevel, replicationFactor: number): number {
  switch (level) {
    case 'quorum':
      return Math.floor(replicationFactor / 2) + 1;
    case 'strong':
      return replicationFactor;
    case 'eventual':
    case 'causal':
      return 0;
  }
}

/** A `*`/`?` glob over package names (`/` is an ordinary character). */
export function packageGlobMatches(glob: string, name: string): boolean {
  const pattern = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(name);
}

/** The first enabled rule that selects a version, or null (it does not replicate). */
export function matchingRule(rules: readonly ReplicationRule[], version: { name: string; visibility: Visibility; labels: readonly string[] }): ReplicationRule | null {
  return (
    rules.find(
      (rule) =>
        rule.enabled &&
        packageGlobMatches(rule.packages, version.name) &&
        (rule.visibility === 'any' || rule.visibility === version.visibility) &&
        rule.labels.every((label) => version.labels.includes(label)),
    ) ?? null
  );
}

// ---------------------------------------------------------------------------------------------
// Placement

export interface PlacementCandidate {
  id: string;
  region: string;
  priority: number;
  capacityBytes: number | null;
  usedBytes: number;
  enabled: boolean;
}

export interface PlacementResult {
  /** Chosen nodes, in the order they were picked. */
  nodes: string[];
  /** Nodes passed over and why (a full node is reported, never overfilled). */
  skipped: Array<{ id: string; reason: 'full' | 'disabled' }>;
  /** Fewer fitting nodes than the replication factor. */
  shortBy: number;
}

function freeBytes(node: PlacementCandidate): number {
  return node.capacityBytes === null ? Number.POSITIVE_INFINITY : node.capacityBytes - node.usedBytes;
}

/**
 * Picks `replicationFactor` nodes for a version of `sizeBytes`: distinct regions first, then lower
 * priority, then more free capacity (ties by id, so placement is deterministic). A region is reused
 * only when no unused region has a fitting node left.
 */
export function placeReplicas(candidates: readonly PlacementCandidate[], replicationFactor: number, sizeBytes: number): PlacementResult {
  const skipped: PlacementResult['skipped'] = [];
  const fitting: PlacementCandidate[] = [];
  for (const node of candidates) {
    if (!node.enabled) skipped.push({ id: node.id, reason: 'disabled' });
    else if (freeBytes(node) < sizeBytes) skipped.push({ id: node.id, reason: 'full' });
    else fitting.push(node);
  }
  const ranked = [...fitting].sort((a, b) => a.priority - b.priority || freeBytes(b) - freeBytes(a) || a.id.localeCompare(b.id));
  const chosen: PlacementCandidate[] = [];
  const regions = new Set<string>();
  for (const node of ranked) {
    if (chosen.length >= replicationFactor) break;
    if (!regions.has(node.region)) {
      chosen.push(node);
      regions.add(node.region);
    }
  }
  for (const node of ranked) {
    if (chosen.length >= replicationFactor) break;
    if (!chosen.includes(node)) chosen.push(node);
  }
  return { nodes: chosen.map((node) => node.id), skipped, shortBy: Math.max(0, replicationFactor - chosen.length) };
}

// ---------------------------------------------------------------------------------------------
// Version vectors: one counter per writer (registry id); a change depends on what its vector covers.

export const versionVectorSchema = z.record(z.string().min(1).max(100), z.number().int().min(0));
export type VersionVector = z.infer<typeof versionVectorSchema>;

export type VectorOrder = 'equal' | 'before' | 'after' | 'concurrent';

/** How `a` stands to `b`: before (b has seen a), after, equal, or concurrent (a conflict). */
export function compareVectors(a: VersionVector, b: VersionVector): VectorOrder {
  let less = false;
  let greater = false;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const left = a[key] ?? 0;
    const right = b[key] ?? 0;
    if (left < right) less = true;
    if (left > right) greater = true;
  }
  if (less && greater) return 'concurrent';
  if (less) return 'before';
  if (greater) return 'after';
  return 'equal';
}

export function mergeVectors(a: VersionVector, b: VersionVector): VersionVector {
  const merged: VersionVector = { ...a };
  for (const [key, value] of Object.entries(b)) merged[key] = Math.max(merged[key] ?? 0, value);
  return merged;
}

export function incrementVector(vector: VersionVector, writer: string): VersionVector {
  return { ...vector, [writer]: (vector[writer] ?? 0) + 1 };
}

/** True when every change `dependency` covers is already covered by `applied`. */
export function vectorCovers(applied: VersionVector, dependency: VersionVector): boolean {
  const order = compareVectors(dependency, applied);
  return order === 'before' || order === 'equal';
}

// ---------------------------------------------------------------------------------------------
// Hybrid logical clock (Kulkarni et al.): wall time plus a counter, never going backwards, so
// "first published" is comparable across registries whose clocks drift.

export interface HybridTimestamp {
  wallMs: number;
  logical: number;
  node: string;
}

export function tickClock(last: HybridTimestamp, nowMs: number): HybridTimestamp {
  return nowMs > last.wallMs ? { wallMs: nowMs, logical: 0, node: last.node } : { wallMs: last.wallMs, logical: last.logical + 1, node: last.node };
}

/** The local clock after receiving `remote`: later than both. */
export function receiveClock(last: HybridTimestamp, remote: HybridTimestamp, nowMs: number): HybridTimestamp {
  const wallMs = Math.max(last.wallMs, remote.wallMs, nowMs);
  let logical = 0;
  if (wallMs === last.wallMs && wallMs === remote.wallMs) logical = Math.max(last.logical, remote.logical) + 1;
  else if (wallMs === last.wallMs) logical = last.logical + 1;
  else if (wallMs === remote.wallMs) logical = remote.logical + 1;
  return { wallMs, logical, node: last.node };
}

export function compareTimestamps(a: HybridTimestamp, b: HybridTimestamp): number {
  return a.wallMs - b.wallMs || a.logical - b.logical || a.node.localeCompare(b.node);
}

/** `<wall ms, 13 digits>.<logical, 6 digits>@<node>`: sorts as text in clock order. */
export function formatTimestamp(stamp: HybridTimestamp): string {
  return `${String(stamp.wallMs).padStart(13, '0')}.${String(stamp.logical).padStart(6, '0')}@${stamp.node}`;
}

export function parseTimestamp(text: string): HybridTimestamp | null {
  const match = /^(\d{13})\.(\d{6})@(.+)$/.exec(text);
  return match ? { wallMs: Number(match[1]), logical: Number(match[2]), node: match[3] ?? '' } : null;
}

// ---------------------------------------------------------------------------------------------
// What each replica holds next to the blob: `<prefix>/meta/<name>/<version>.json`.

export const replicaMetaRecordSchema = z.object({
  format: z.literal('torsh-replica-meta/1'),
  name: z.string(),
  version: z.string(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  manifest: z.object({
    description: z.string().nullable(),
    author: z.string().nullable(),
    license: z.string().nullable(),
    tags: z.array(z.string()),
    dependencies: z.record(z.string(), z.string()),
  }),
  visibility: visibilitySchema,
  owners: z.array(z.string()),
  yanked: z.boolean(),
  /** Minisign signature texts (each with its `.minisig` next to the blob). */
  signatures: z.array(z.string()),
  published_at: z.string(),
  published_by: z.string().nullable(),
  /** When the registry committed it (hybrid logical clock). */
  committed_at: z.string(),
  version_vector: versionVectorSchema,
  /** The registry that accepted the write. */
  origin: z.string(),
  /** The origin registry's region (`conflict_policy: primary-region`). */
  region: z.string().optional(),
  /** The level the write was made at; a `strong` write counts only once its commit marker is on the replica. */
  consistency: consistencyLevelSchema.optional(),
});
export type ReplicaMetaRecord = z.infer<typeof replicaMetaRecordSchema>;

/** Object keys on a replica, under the node's own prefix. */
export const replicaKeys = {
  blob: (digestHex: string): string => `blobs/sha256/${digestHex}`,
  signature: (digestHex: string): string => `blobs/sha256/${digestHex}.minisig`,
  meta: (name: string, version: string): string => `meta/${name}/${version}.json`,
  /** Written once every replica confirmed a strong write (see replicaCommitMarkerSchema). */
  commit: (name: string, version: string): string => `commits/${name}/${version}.json`,
};

/** A strong write's commit marker: every listed node confirmed blob and record before it was written. */
export const replicaCommitMarkerSchema = z.object({
  format: z.literal('torsh-replica-commit/1'),
  name: z.string(),
  version: z.string(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  consistency: consistencyLevelSchema,
  nodes: z.array(z.string()),
  committed_at: z.string(),
});
export type ReplicaCommitMarker = z.infer<typeof replicaCommitMarkerSchema>;

// ---------------------------------------------------------------------------------------------
// Views (HTTP, IPC, CLI --json, the screen)

export const replicationTaskStates = ['pending', 'running', 'done', 'held'] as const;
export const replicationTaskStateSchema = z.enum(replicationTaskStates);
export type ReplicationTaskState = z.infer<typeof replicationTaskStateSchema>;

export const replicationTaskSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  version: z.string(),
  nodeId: z.string(),
  /** `put` copies blob, signatures and metadata record; `meta` rewrites the record (yank, visibility, owners, signature). */
  operation: z.enum(['put', 'meta']),
  state: replicationTaskStateSchema,
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  confirmedAt: z.string().nullable(),
});
export type ReplicationTask = z.infer<typeof replicationTaskSchema>;

export const replicationNodeStatusSchema = z.object({
  id: z.string(),
  region: z.string(),
  kind: z.enum(['storage', 'peer']),
  endpoint: z.string(),
  priority: z.number().int(),
  capacityBytes: z.number().nullable(),
  usedBytes: z.number(),
  status: z.enum(['healthy', 'degraded', 'unhealthy', 'unknown']),
  lastError: z.string().nullable(),
  queueDepth: z.number().int(),
  hints: z.number().int(),
  confirmed: z.number().int(),
  errors: z.number().int(),
  bytes: z.number().int(),
  lagAvgMs: z.number().nullable(),
  lagP95Ms: z.number().nullable(),
});
export type ReplicationNodeStatus = z.infer<typeof replicationNodeStatusSchema>;

export const replicationStatusSchema = z.object({
  replicationFactor: z.number().int(),
  consistency: consistencyLevelSchema,
  nodes: z.array(replicationNodeStatusSchema),
  queueDepth: z.number().int(),
  alerts: z.array(z.object({ kind: z.enum(['node-full', 'hints-piling-up', 'lag', 'under-replicated']), nodeId: z.string().nullable(), message: z.string() })),
});
export type ReplicationStatus = z.infer<typeof replicationStatusSchema>;

export const replicaPlacementSchema = z.object({
  name: z.string(),
  version: z.string(),
  nodes: z.array(z.object({ nodeId: z.string(), state: replicationTaskStateSchema, confirmedAt: z.string().nullable() })),
});
export type ReplicaPlacement = z.infer<typeof replicaPlacementSchema>;

export const verifyFindingSchema = z.object({
  nodeId: z.string(),
  name: z.string(),
  version: z.string(),
  problem: z.enum(['missing', 'corrupt', 'record-missing', 'record-stale', 'unreachable']),
  repaired: z.boolean(),
  error: z.string().nullable(),
});
export type VerifyFinding = z.infer<typeof verifyFindingSchema>;

/** What `replication verify [--deep]` (anti-entropy) found and repaired. */
export const verifyReportSchema = z.object({ deep: z.boolean(), checked: z.number().int(), findings: z.array(verifyFindingSchema), jobId: z.string().nullable().optional() });
export type VerifyReport = z.infer<typeof verifyReportSchema>;

/** A write two registries accepted concurrently (same version, other bytes, or concurrent changes). */
export const replicationConflictSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  version: z.string(),
  kind: z.enum(['bytes', 'state']),
  local: z.object({ digest: z.string().nullable(), publishedAt: z.string().nullable(), region: z.string().nullable() }),
  remote: z.object({ digest: z.string(), origin: z.string(), committedAt: z.string(), region: z.string().nullable() }),
  detectedAt: z.string(),
  resolvedAt: z.string().nullable(),
  resolution: z.object({ winner: z.enum(['local', 'remote']), policy: conflictPolicySchema, by: z.string().nullable() }).nullable(),
});
export type ReplicationConflict = z.infer<typeof replicationConflictSchema>;

/** `POST /api/v1/replication/conflicts/{id}/resolve`: a policy (default: the section's), and for `manual` the winner. */
export const conflictResolveRequestSchema = z
  .object({ policy: conflictPolicySchema.optional(), winner: z.enum(['local', 'remote']).optional() })
  .strict();
export type ConflictResolveRequest = z.infer<typeof conflictResolveRequestSchema>;
