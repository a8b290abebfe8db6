import { createHash } from 'node:crypto';
import { DepotError } from '../../../shared/errors';
import { ChunkIndex, type BackupRepository, type ChunkLocation } from './backup-repository';
import { listKeys, objectKeys, readObject, type Snapshot } from './repository-format';
import { withLock } from './repository-lock';

export interface VerifyOptions {
  /** Decrypt, decompress and re-hash chunks of this fraction of the packs (1 = `--read-data`). */
  readDataFraction?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface VerifyProblem {
  kind: 'index' | 'snapshot' | 'missing-chunk' | 'missing-pack' | 'pack-size' | 'pack-data';
  message: string;
  pack?: string;
  snapshot?: string;
}

export interface VerifyReport {
  ok: boolean;
  snapshots: number;
  packs: number;
  chunks: number;
  packsRead: number;
  bytesRead: number;
  problems: VerifyProblem[];
  damagedPacks: string[];
  /** Snapshots that cannot be fully restored because of the problems found. */
  affectedSnapshots: string[];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Checks the repository: every index opens, every snapshot opens and every chunk it lists is in an
 * index and in a pack of the right size; with a read-data fraction, packs are downloaded and every
 * chunk in them is decrypted, decompressed and re-hashed. Reports which packs are damaged and which
 * snapshots they affect; never changes anything.
 */
export async function runVerify(repository: BackupRepository, options: VerifyOptions = {}): Promise<VerifyReport> {
  return withLock(repository.storage, 'shared', 'verify', async () => {
    const problems: VerifyProblem[] = [];
    const index = new ChunkIndex();
    for (const { key } of await listKeys(repository.storage, objectKeys.index)) {
      try {
        for (const pack of (await repository.readIndexFile(key)).packs) index.addPack(pack);
      } catch (error) {
        problems.push({ kind: 'index', message: messageOf(error) });
      }
    }
    const snapshots: Snapshot[] = [];
    for (const { key } of await listKeys(repository.storage, objectKeys.snapshots)) {
      try {
        snapshots.push(await repository.loadSnapshot(objectKeys.packIdOf(key)));
      } catch (error) {
        problems.push({ kind: 'snapshot', message: messageOf(error), snapshot: objectKeys.packIdOf(key) });
      }
    }
    const stored = new Map((await listKeys(repository.storage, objectKeys.data)).map(({ key, size }) => [objectKeys.packIdOf(key), size]));
    const damaged = new Set<string>();
    for (const pack of index.packs.values()) {
      const size = stored.get(pack.id);
      if (size === undefined) {
        damaged.add(pack.id);
        problems.push({ kind: 'missing-pack', pack: pack.id, message: `Pack ${pack.id} is in the index but not in the repository.` });
      } else if (size !== pack.size) {
        damaged.add(pack.id);
        problems.push({ kind: 'pack-size', pack: pack.id, message: `Pack ${pack.id} holds ${size} bytes; its index says ${pack.size}.` });
      }
    }
    const missingChunks = new Set<string>();
    for (const snapshot of snapshots) {
      for (const file of snapshot.files) {
        for (const id of file.chunks) {
          if (!index.chunks.has(id) && !missingChunks.has(id)) {
            missingChunks.add(id);
            problems.push({ kind: 'missing-chunk', snapshot: snapshot.id, message: `Chunk ${id.slice(0, 12)} of ${file.path} in snapshot ${snapshot.id.slice(0, 12)} is in no index.` });
          }
        }
      }
    }
    const fraction = Math.min(1, Math.max(0, options.readDataFraction ?? 0));
    const candidates = [...index.packs.values()].filter((pack) => !damaged.has(pack.id));
    // A random subset, as restic's --read-data-subset n%: repeated runs cover every pack over time.
    const toRead = fraction >= 1 ? candidates : candidates.filter(() => Math.random() < fraction);
    let packsRead = 0;
    let bytesRead = 0;
    for (const pack of toRead) {
      options.signal?.throwIfAborted();
      try {
        const bytes = await readObject(repository.storage, objectKeys.packKey(pack.id));
        bytesRead += bytes.length;
        if (createHash('sha256').update(bytes).digest('hex') !== pack.id) throw new DepotError('DIGEST_MISMATCH', `Pack ${pack.id} does not hash to its name.`, { reason: 'pack-corrupt' });
        const header = bytes.subarray(0, pack.headerLength);
        for (const blob of pack.blobs) {
          const location: ChunkLocation = { ...blob, pack: pack.id, headerLength: pack.headerLength };
          await repository.openBlob(location, bytes.subarray(blob.offset, blob.offset + blob.length), header);
        }
      } catch (error) {
        damaged.add(pack.id);
        problems.push({ kind: 'pack-data', pack: pack.id, message: messageOf(error) });
      }
      packsRead += 1;
      options.onProgress?.(packsRead, toRead.length);
    }
    const lostChunks = new Set(missingChunks);
    for (const id of damaged) for (const blob of index.packs.get(id)?.blobs ?? []) lostChunks.add(blob.id);
    const affected = snapshots.filter((snapshot) => snapshot.files.some((file) => file.chunks.some((id) => lostChunks.has(id)))).map((snapshot) => snapshot.id);
    return {
      ok: problems.length === 0,
      snapshots: snapshots.length,
      packs: index.packs.size,
      chunks: index.chunks.size,
      packsRead,
      bytesRead,
      problems,
      damagedPacks: [...damaged],
      affectedSnapshots: affected,
    };
  });
}
