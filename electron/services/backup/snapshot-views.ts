import { DepotError } from '../../../shared/errors';
import type { BackupRepositoryStats, RetentionGroup, SnapshotDiff, SnapshotSummary } from '../../../shared/domain/backup';
import type { BackupRepository } from './backup-repository';
import type { ForgetGroup } from './prune-runner';
import type { Snapshot } from './repository-format';
import { withLock } from './repository-lock';
import { recoveryPointTag } from './retention-policy';

/** A snapshot without its file list (what lists, the API and the screen show). */
export function summarizeSnapshot(snapshot: Snapshot): SnapshotSummary {
  const { files, version: _version, ...rest } = snapshot;
  return { ...rest, fileCount: files.length };
}

/** Files added, removed and changed from `a` to `b`, and how many of `b`'s chunks `a` lacks. */
export function diffSnapshots(a: Snapshot, b: Snapshot): SnapshotDiff {
  const before = new Map(a.files.map((file) => [file.path, file]));
  const after = new Map(b.files.map((file) => [file.path, file]));
  const added = [...after.keys()].filter((name) => !before.has(name));
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const changed = [...after.keys()].filter((name) => before.has(name) && before.get(name)?.sha256 !== after.get(name)?.sha256);
  const chunksA = new Set(a.files.flatMap((file) => file.chunks));
  const newChunks = new Set(b.files.flatMap((file) => file.chunks).filter((id) => !chunksA.has(id)));
  return { from: a.id, to: b.id, added, removed, changed, newChunks: newChunks.size };
}

/** Snapshots, logical, unique and stored bytes, and the dedup ratio (logical / stored). */
export async function repositoryStats(repository: BackupRepository): Promise<BackupRepositoryStats> {
  const snapshots = await repository.listSnapshots();
  const index = await repository.loadIndex();
  const stored = [...index.packs.values()].reduce((sum, pack) => sum + pack.size, 0);
  const logical = snapshots.reduce((sum, snapshot) => sum + snapshot.stats.logicalBytes, 0);
  const unique = [...index.chunks.values()].reduce((sum, chunk) => sum + chunk.rawLength, 0);
  return { snapshots: snapshots.length, logicalBytes: logical, uniqueBytes: unique, storedBytes: stored, chunks: index.chunks.size, packs: index.packs.size, dedupRatio: stored > 0 ? logical / stored : null };
}

export function retentionGroupsView(groups: ForgetGroup[]): RetentionGroup[] {
  return groups.map(({ group, decision }) => ({
    group,
    keep: decision.keep.map(({ snapshot, reasons }) => ({ id: snapshot.id, time: snapshot.time, reasons })),
    remove: decision.remove.map(({ snapshot, reasons }) => ({ id: snapshot.id, time: snapshot.time, reasons })),
  }));
}

/**
 * Releases a recovery point: snapshots are immutable objects, so the untagged copy is written first,
 * then the tagged one deleted (killed in between, both exist; the data is the same). Returns the copy.
 */
export async function releaseRecoveryPointSnapshot(repository: BackupRepository, idOrPrefix: string): Promise<Snapshot> {
  return withLock(repository.storage, 'exclusive', 'release recovery point', async () => {
    const snapshot = await repository.findSnapshot(idOrPrefix);
    if (!snapshot.tags.includes(recoveryPointTag)) throw new DepotError('VALIDATION_FAILED', `${idOrPrefix} is not a recovery point.`, { reason: 'not-a-recovery-point' });
    const { id, ...content } = snapshot;
    const copy = await repository.saveSnapshot({ ...content, tags: content.tags.filter((tag) => tag !== recoveryPointTag) });
    await repository.deleteSnapshot(id);
    return copy;
  });
}
