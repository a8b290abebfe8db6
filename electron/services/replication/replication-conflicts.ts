import { DepotError } from '../../../shared/errors';
import {
  mergeVectors,
  parseTimestamp,
  replicaMetaRecordSchema,
  versionVectorSchema,
  type ConflictResolveRequest,
  type ReplicationConflict,
  type ReplicationSection,
  type VersionVector,
} from '../../../shared/domain/replication';
import type { AccessContext } from '../access/access-control';
import type { PeerTarget } from './peer-receiver';
import type { ConflictRow, ReplicationQueue } from './replication-queue';

interface LocalSide {
  digest: string | null;
  version_vector: VersionVector | null;
}

/**
 * Conflicts a registry peer kept instead of applying (`GET /api/v1/replication/conflicts`), and
 * their resolution by policy — the configured primary region wins, the first published by hybrid
 * logical clock wins, or a person picks (`manual`) — with an audit entry. The losing side's bytes
 * stay in the blob store until the conflict is resolved.
 */
export class ReplicationConflicts {
  constructor(
    private readonly options: {
      queue: ReplicationQueue;
      now: () => number;
      section: () => ReplicationSection;
      target: () => PeerTarget;
    },
  ) {}

  async list(): Promise<ReplicationConflict[]> {
    return (await this.options.queue.conflicts()).map((row) => this.view(row));
  }

  async resolve(id: number, request: ConflictResolveRequest, context: AccessContext): Promise<ReplicationConflict> {
    const row = await this.options.queue.conflict(id);
    if (!row) throw new DepotError('NOT_FOUND', `No replication conflict ${id}.`);
    if (row.resolved_at !== null) throw new DepotError('CONFLICT', `Conflict ${id} is already resolved.`, { reason: 'already-resolved' });
    const conflict = this.view(row);
    const policy = request.policy ?? this.options.section().conflict_policy;
    const winner = policy === 'manual' ? request.winner : this.winnerBy(policy, conflict);
    if (winner === undefined) throw new DepotError('VALIDATION_FAILED', 'manual resolution needs winner: local or remote.');
    if (winner === 'remote' && conflict.kind === 'bytes') {
      throw new DepotError(
        'CONFLICT',
        `${policy} picks the remote bytes of ${conflict.name}@${conflict.version} (${conflict.remote.digest}); replacing this registry's published bytes is not built yet. The conflict stays open and both byte sets are kept.`,
        { reason: 'remote-wins-unsupported' },
      );
    }
    const remote = replicaMetaRecordSchema.parse(JSON.parse(row.remote_json) as unknown);
    const local = this.localSide(row);
    // Resolved: the remote write counts as seen, so its retries are acknowledged and change nothing.
    await this.options.queue.setAppliedVector(row.package_name, row.version, mergeVectors(local.version_vector ?? {}, remote.version_vector), remote.committed_at);
    const by = context.principal.kind === 'user' ? context.principal.user.name : null;
    await this.options.queue.markConflictResolved(id, JSON.stringify({ winner, policy, by }), this.options.now());
    this.options.target().access.record(context, 'replication.conflict.resolve', `package:${row.package_name}@${row.version}`, { conflict: id, kind: row.kind, winner, policy, local: conflict.local.digest, remote: conflict.remote.digest });
    const resolved = await this.options.queue.conflict(id);
    return this.view(resolved ?? row);
  }

  private winnerBy(policy: 'primary-region' | 'first-published', conflict: ReplicationConflict): 'local' | 'remote' {
    if (policy === 'primary-region') {
      const primary = this.options.section().primary_region;
      if (primary === undefined) throw new DepotError('VALIDATION_FAILED', 'conflict_policy primary-region needs primary_region in the replication section.');
      if (conflict.local.region === primary) return 'local';
      if (conflict.remote.region === primary) return 'remote';
      throw new DepotError('VALIDATION_FAILED', `Neither side of conflict ${conflict.id} is in the primary region ${primary} (local ${conflict.local.region ?? 'unknown'}, remote ${conflict.remote.region ?? 'unknown'}); resolve it manually.`);
    }
    const remoteWall = parseTimestamp(conflict.remote.committedAt)?.wallMs ?? Number.POSITIVE_INFINITY;
    const localWall = conflict.local.publishedAt === null ? Number.POSITIVE_INFINITY : Date.parse(conflict.local.publishedAt);
    return localWall <= remoteWall ? 'local' : 'remote';
  }

  private localSide(row: ConflictRow): LocalSide {
    const parsed = JSON.parse(row.local_json) as { digest?: unknown; version_vector?: unknown };
    const vector = versionVectorSchema.safeParse(parsed.version_vector);
    return { digest: typeof parsed.digest === 'string' ? parsed.digest : null, version_vector: vector.success ? vector.data : null };
  }

  private view(row: ConflictRow): ReplicationConflict {
    const remote = replicaMetaRecordSchema.parse(JSON.parse(row.remote_json) as unknown);
    const local = this.localSide(row);
    let publishedAt: string | null;
    try {
      publishedAt = this.options.target().registry.getVersion(row.package_name, row.version).published_at;
    } catch {
      publishedAt = null;
    }
    const resolution = row.resolution === null ? null : (JSON.parse(row.resolution) as ReplicationConflict['resolution']);
    return {
      id: row.id,
      name: row.package_name,
      version: row.version,
      kind: row.kind === 'bytes' ? 'bytes' : 'state',
      local: { digest: local.digest, publishedAt, region: this.options.section().region ?? null },
      remote: { digest: remote.digest, origin: remote.origin, committedAt: remote.committed_at, region: remote.region ?? null },
      detectedAt: new Date(row.detected_at).toISOString(),
      resolvedAt: row.resolved_at === null ? null : new Date(row.resolved_at).toISOString(),
      resolution,
    };
  }
}
