import type { Readable } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import { compareVectors, formatTimestamp, mergeVectors, type ReplicaMetaRecord, type VersionVector } from '../../../shared/domain/replication';
import type { BlobStore } from '../blobs/blob-store';
import type { Logger } from '../logger';
import { applyRecordState, publishFromRecord, type ReplicaApplyTarget } from './replica-apply';
import type { ReplicationQueue } from './replication-queue';
import { restoreBlob } from './restore-blob';

export interface PeerTarget extends ReplicaApplyTarget {
  blobs: BlobStore;
}

export type PeerApplyOutcome = 'applied' | 'already-applied';

/**
 * The receiving side of a registry peer (`PUT /api/v1/replication/replica/…`, `Replicate`): blobs
 * land in this registry's blob store (digest checked); a record is applied in version-vector order —
 * a record the peer already covers is acknowledged and ignored, one that needs bytes the peer lacks
 * is held (refused until they arrive), and a concurrent one (a write made elsewhere meanwhile) is
 * kept as a conflict, never applied over the local state.
 */
export class PeerReceiver {
  constructor(
    private readonly options: {
      queue: ReplicationQueue;
      logger: Logger;
      now: () => number;
      /** Runs `work` with the registry's own replication hooks quiet for this version (no echo back). */
      quietly: <Result>(name: string, version: string, work: () => Promise<Result>) => Promise<Result>;
    },
  ) {}

  async receiveBlob(target: PeerTarget, digestHex: string, body: Readable): Promise<{ size: number; sha256: string }> {
    const { size } = await restoreBlob(target.blobs, target.tmpDir, digestHex, () => Promise.resolve(body), { keepExisting: true });
    return { size, sha256: digestHex };
  }

  async receiveRecord(target: PeerTarget, record: ReplicaMetaRecord): Promise<PeerApplyOutcome> {
    const { queue } = this.options;
    const hex = record.digest.slice('sha256:'.length);
    const applied = await queue.appliedVector(record.name, record.version);
    const order = applied ? compareVectors(record.version_vector, applied) : 'after';
    if (order === 'before' || order === 'equal') return 'already-applied';
    const local = this.localVersion(target, record);
    if (order === 'concurrent' || (local && local.digest !== record.digest)) {
      const id = await queue.recordConflict(
        { name: record.name, version: record.version, kind: local && local.digest !== record.digest ? 'bytes' : 'state', localJson: JSON.stringify({ digest: local?.digest ?? null, version_vector: applied }), remoteJson: JSON.stringify(record) },
        this.options.now(),
      );
      throw new DepotError('CONFLICT', `${record.name}@${record.version} from ${record.origin} conflicts with this registry's (conflict ${id}); kept for resolution, not applied.`, { reason: 'replication-conflict' });
    }
    if (!(await target.blobs.has(hex))) {
      // Causal: a record (its yank, its signature) never shows before its bytes are here.
      throw new DepotError('CONFLICT', `${record.name}@${record.version} is held: its bytes (${record.digest}) have not arrived yet.`, { reason: 'held' });
    }
    await this.options.quietly(record.name, record.version, async () => {
      if (local) await applyRecordState(target, record);
      else await publishFromRecord(target, record, () => target.blobs.open(hex));
    });
    const merged: VersionVector = mergeVectors(applied ?? {}, record.version_vector);
    await queue.setAppliedVector(record.name, record.version, merged, record.committed_at || formatTimestamp({ wallMs: this.options.now(), logical: 0, node: record.origin }));
    this.options.logger.info(`replication: applied ${record.name}@${record.version} from ${record.origin}`);
    return 'applied';
  }

  private localVersion(target: PeerTarget, record: ReplicaMetaRecord): { digest: string } | null {
    try {
      return target.registry.getVersion(record.name, record.version);
    } catch (error) {
      if (error instanceof DepotError && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }
}
