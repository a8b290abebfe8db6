import type { BackupRepository } from './backup-repository';
import { listKeys, objectKeys, type IndexPack } from './repository-format';
import { withLock } from './repository-lock';
import { applyRetentionPolicy, type RetentionDecision, type RetentionPolicy } from './retention-policy';
import type { Snapshot } from './repository-format';

export type PruneStep = 'repacked' | 'index-written' | 'old-indexes-deleted' | 'packs-deleted';

export interface PruneOptions {
  /** Repack a pack once more than this fraction of its bytes is unused (restic's --max-unused, per pack). */
  maxUnusedFraction?: number;
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Called after each step (tests stop a prune there to prove each intermediate state is safe). */
  afterStep?: (step: PruneStep) => Promise<void> | void;
}

export interface PruneReport {
  dryRun: boolean;
  packsBefore: number;
  packsDeleted: number;
  packsRepacked: number;
  orphanPacks: number;
  bytesFreed: number;
  chunksRemoved: number;
}

/**
 * Removes data no snapshot needs. Crash-safe by ordering: (1) the live chunks of partly used packs
 * are copied into new packs, each with its index; (2) one new index naming every live chunk is
 * written; (3) the old indexes are deleted; (4) only then are unused packs deleted. Killed between
 * any two steps, every chunk a snapshot needs is still named by an index and present in a pack;
 * what is left over (extra packs, duplicate index entries) the next prune removes.
 */
export async function runPrune(repository: BackupRepository, options: PruneOptions = {}): Promise<PruneReport> {
  return withLock(repository.storage, 'exclusive', 'prune', async () => {
    const maxUnused = options.maxUnusedFraction ?? 0.1;
    const index = await repository.loadIndex();
    const snapshots = await repository.listSnapshots();
    const used = new Set<string>();
    for (const snapshot of snapshots) for (const file of snapshot.files) for (const id of file.chunks) used.add(id);
    const stored = await listKeys(repository.storage, objectKeys.data);
    const orphans = stored.filter(({ key }) => !index.packs.has(objectKeys.packIdOf(key)));
    const keep: IndexPack[] = [];
    const repack: IndexPack[] = [];
    const drop: IndexPack[] = [];
    // A chunk listed in several packs (after an interrupted prune) is live in the first only.
    const claimed = new Set<string>();
    for (const pack of index.packs.values()) {
      const live = pack.blobs.filter((blob) => used.has(blob.id) && index.chunks.get(blob.id)?.pack === pack.id && !claimed.has(blob.id));
      for (const blob of live) claimed.add(blob.id);
      const liveBytes = live.reduce((sum, blob) => sum + blob.length, pack.headerLength);
      if (live.length === 0) drop.push(pack);
      else if ((pack.size - liveBytes) / pack.size > maxUnused) repack.push({ ...pack, blobs: live });
      else keep.push({ ...pack, blobs: live });
    }
    const report: PruneReport = {
      dryRun: options.dryRun ?? false,
      packsBefore: index.packs.size,
      packsDeleted: drop.length + repack.length + orphans.length,
      packsRepacked: repack.length,
      orphanPacks: orphans.length,
      bytesFreed: 0,
      chunksRemoved: [...index.chunks.keys()].filter((id) => !used.has(id)).length,
    };
    if (options.dryRun) return report;
    // (1) copy live chunks out of packs that are mostly garbage
    const writer = repository.newPackWriter();
    for (const pack of repack) {
      options.signal?.throwIfAborted();
      for (const blob of pack.blobs) await writer.add(blob.id, await repository.readChunk({ ...blob, pack: pack.id, headerLength: pack.headerLength }));
    }
    await writer.flush();
    await options.afterStep?.('repacked');
    // (2) one index for everything live
    const newIndexKey = await repository.writeIndexFile({ version: 1, packs: [...keep, ...writer.written], supersedes: index.files.map((key) => objectKeys.packIdOf(key)) });
    await options.afterStep?.('index-written');
    // (3) the old indexes, including those the repack step just wrote (the new index covers them)
    for (const { key } of await listKeys(repository.storage, objectKeys.index)) if (key !== newIndexKey) await repository.storage.delete(key);
    await options.afterStep?.('old-indexes-deleted');
    // (4) packs nothing refers to any more
    for (const pack of [...drop, ...repack]) {
      await repository.storage.delete(objectKeys.packKey(pack.id));
      report.bytesFreed += pack.size;
    }
    for (const orphan of orphans) {
      await repository.storage.delete(orphan.key);
      report.bytesFreed += orphan.size;
    }
    await options.afterStep?.('packs-deleted');
    return report;
  });
}

export interface ForgetOptions {
  policy: RetentionPolicy;
  dryRun?: boolean;
  /** Group by this (default: the snapshot's source label), as restic groups by host and paths. */
  groupBy?: (snapshot: Snapshot) => string;
}

export interface ForgetGroup {
  group: string;
  decision: RetentionDecision<Snapshot>;
}

/** Applies a retention policy per source; deletes the snapshots it does not keep unless dry-running. */
export async function runForget(repository: BackupRepository, options: ForgetOptions): Promise<ForgetGroup[]> {
  return withLock(repository.storage, options.dryRun ? 'shared' : 'exclusive', 'forget', async () => {
    const groups = new Map<string, Snapshot[]>();
    const groupOf = options.groupBy ?? ((snapshot: Snapshot) => `${snapshot.source.kind}:${snapshot.source.label}`);
    for (const snapshot of await repository.listSnapshots()) {
      const key = groupOf(snapshot);
      groups.set(key, [...(groups.get(key) ?? []), snapshot]);
    }
    const result: ForgetGroup[] = [];
    for (const [group, snapshots] of groups) {
      const decision = applyRetentionPolicy(snapshots, options.policy);
      if (!options.dryRun) for (const { snapshot } of decision.remove) await repository.deleteSnapshot(snapshot.id);
      result.push({ group, decision });
    }
    return result;
  });
}
