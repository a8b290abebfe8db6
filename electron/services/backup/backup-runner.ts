import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { DepotError } from '../../../shared/errors';
import { currentHost, type BackupRepository, type ChunkIndex, type PackWriter } from './backup-repository';
import { chunkFileRange } from './fastcdc';
import type { BackupStrategy, Snapshot, SnapshotFile } from './repository-format';
import type { FileSegment } from './zip-segments';
import { withLock } from './repository-lock';
import { zipSegments } from './zip-segments';

export interface BackupSourceFile {
  /** The path recorded in the snapshot (relative, `/`-separated). */
  path: string;
  absolutePath: string;
}

export interface BackupProgress {
  filesDone: number;
  filesTotal: number;
  bytesRead: number;
  bytesTotal: number;
  /** Bytes of chunks new to the repository (before compression). */
  bytesNew: number;
  etaSeconds: number | null;
}

export interface BackupRequest {
  source: { kind: 'files' | 'registry' | 'version' | 'set'; label: string };
  files: BackupSourceFile[];
  strategy: BackupStrategy;
  tags?: string[];
  note?: string | null;
  signal?: AbortSignal;
  onProgress?: (progress: BackupProgress) => void;
  /** Chunks sealed at once (compression runs on the thread pool). */
  concurrency?: number;
  /** The snapshot's time (tests fabricate histories). */
  time?: Date;
}

/** The snapshot a new backup compares with: the latest of the same source, or its latest full one. */
export function parentFor(snapshots: Snapshot[], label: string, strategy: BackupStrategy): Snapshot | null {
  if (strategy === 'full') return null;
  const candidates = snapshots.filter((snapshot) => snapshot.source.label === label && (strategy === 'incremental' || snapshot.strategy === 'full'));
  return candidates.at(-1) ?? null;
}

/**
 * Backs files up into a new snapshot. Every snapshot lists all its files' chunks (restore needs
 * that snapshot only); chunks already in the repository are never stored twice. Incremental and
 * differential runs skip reading files whose size and mtime match the parent snapshot's record.
 * Killed halfway, it leaves no snapshot; the packs it finished are indexed and reused next time.
 */
export async function runBackup(repository: BackupRepository, request: BackupRequest): Promise<Snapshot> {
  return withLock(repository.storage, 'shared', 'backup', async () => {
    const started = Date.now();
    const index = await repository.loadIndex();
    const parent = parentFor(await repository.listSnapshots(), request.source.label, request.strategy);
    const parentFiles = new Map((parent?.files ?? []).map((file) => [file.path, file]));
    const reusable = reusableSegments(parent);
    const writer = repository.newPackWriter();
    const stats = { files: 0, logicalBytes: 0, addedBytes: 0, addedChunks: 0 };
    const stated = await Promise.all(request.files.map(async (file) => ({ file, stat: await fsp.stat(file.absolutePath) })));
    const progress: BackupProgress = { filesDone: 0, filesTotal: stated.length, bytesRead: 0, bytesTotal: stated.reduce((sum, { stat }) => sum + stat.size, 0), bytesNew: 0, etaSeconds: null };
    const report = (): void => {
      const elapsed = (Date.now() - started) / 1000;
      progress.etaSeconds = progress.bytesRead > 0 && elapsed > 0 ? ((progress.bytesTotal - progress.bytesRead) * elapsed) / progress.bytesRead : null;
      request.onProgress?.({ ...progress });
    };
    const records: SnapshotFile[] = [];
    for (const { file, stat } of stated) {
      request.signal?.throwIfAborted();
      if (!stat.isFile()) throw new DepotError('VALIDATION_FAILED', `${file.absolutePath} is not a regular file.`, { reason: 'not-a-file' });
      const previous = parentFiles.get(file.path);
      let record: SnapshotFile;
      if (previous && previous.size === stat.size && previous.mtimeMs === stat.mtimeMs && previous.chunks.every((id) => index.chunks.has(id))) {
        record = previous;
        progress.bytesRead += stat.size;
      } else {
        record = await backupFile(repository, { index, writer, reusable }, file, stat, request, progress, report, stats);
      }
      records.push(record);
      stats.files += 1;
      stats.logicalBytes += record.size;
      progress.filesDone += 1;
      report();
    }
    await writer.flush();
    request.signal?.throwIfAborted();
    return repository.saveSnapshot({
      version: 1,
      time: (request.time ?? new Date()).toISOString(),
      host: currentHost(),
      strategy: request.strategy,
      parent: parent?.id ?? null,
      source: request.source,
      tags: request.tags ?? [],
      note: request.note ?? null,
      files: records,
      stats: { ...stats, storedBytes: writer.storedBytes, durationMs: Date.now() - started },
    });
  });
}

/** A ZIP entry's chunk list from the parent snapshot, found by the entry's identity. */
interface ReusableSegment {
  sha256: string;
  length: number;
  chunks: string[];
}

function reusableSegments(parent: Snapshot | null): Map<string, ReusableSegment> {
  const found = new Map<string, ReusableSegment>();
  for (const file of parent?.files ?? []) {
    for (const segment of file.segments ?? []) found.set(segment.key, { sha256: segment.sha256, length: segment.length, chunks: file.chunks.slice(segment.first, segment.first + segment.count) });
  }
  return found;
}

interface BackupTarget {
  index: ChunkIndex;
  writer: PackWriter;
  reusable: Map<string, ReusableSegment>;
}

async function* readRange(file: string, segment: FileSegment, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const stream = createReadStream(file, { start: segment.start, end: segment.end - 1, highWaterMark: 1024 * 1024, ...(signal ? { signal } : {}) });
  for await (const piece of stream) yield piece as Buffer;
}

async function backupFile(
  repository: BackupRepository,
  target: BackupTarget,
  file: BackupSourceFile,
  stat: { size: number; mtimeMs: number; mode: number },
  request: BackupRequest,
  progress: BackupProgress,
  report: () => void,
  stats: { addedBytes: number; addedChunks: number },
): Promise<SnapshotFile> {
  const { index, writer } = target;
  let digest: Hash = createHash('sha256');
  const chunks: string[] = [];
  const segments: NonNullable<SnapshotFile['segments']> = [];
  const inFlight = new Set<Promise<void>>();
  const limit = Math.max(1, request.concurrency ?? 4);
  let failure: unknown = null;
  let size = 0;
  for (const segment of await zipSegments(file.absolutePath, stat.size)) {
    const length = segment.end - segment.start;
    const candidate = segment.key === null ? undefined : target.reusable.get(segment.key);
    if (candidate && candidate.length === length && candidate.chunks.every((id) => index.chunks.has(id) || writer.has(id))) {
      // An unchanged entry: its bytes are read and hashed (the file's digest needs them) but not chunked again.
      const trial = digest.copy();
      const segmentHash = createHash('sha256');
      for await (const piece of readRange(file.absolutePath, segment, request.signal)) {
        trial.update(piece);
        segmentHash.update(piece);
      }
      const sha256 = segmentHash.digest('hex');
      if (sha256 === candidate.sha256) {
        digest = trial;
        segments.push({ key: segment.key ?? '', sha256, length, first: chunks.length, count: candidate.chunks.length });
        chunks.push(...candidate.chunks);
        size += length;
        progress.bytesRead += length;
        report();
        continue;
      }
    }
    const first = chunks.length;
    const segmentHash = segment.key === null ? null : createHash('sha256');
    const handle = await fsp.open(file.absolutePath, 'r');
    try {
      for await (const chunk of chunkFileRange(handle, segment.start, segment.end, repository.chunker, request.signal)) {
        if (failure) throw failure;
        digest.update(chunk);
        segmentHash?.update(chunk);
        size += chunk.length;
        const id = repository.chunkId(chunk);
        chunks.push(id);
        progress.bytesRead += chunk.length;
        if (!index.chunks.has(id) && !writer.has(id)) {
          progress.bytesNew += chunk.length;
          stats.addedBytes += chunk.length;
          stats.addedChunks += 1;
          const task: Promise<void> = writer.add(id, chunk).then(
            () => void inFlight.delete(task),
            (error: unknown) => {
              failure ??= error;
              inFlight.delete(task);
            },
          );
          inFlight.add(task);
          if (inFlight.size >= limit) await Promise.race(inFlight);
        }
        report();
      }
    } finally {
      await handle.close();
    }
    if (segmentHash && segment.key !== null) segments.push({ key: segment.key, sha256: segmentHash.digest('hex'), length, first, count: chunks.length - first });
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  if (size !== stat.size) throw new DepotError('CONFLICT', `${file.absolutePath} changed while it was backed up.`, { reason: 'file-changed' });
  return { path: file.path, size, sha256: digest.digest('hex'), mtimeMs: stat.mtimeMs, mode: stat.mode & 0o777, chunks, ...(segments.length > 0 ? { segments } : {}) };
}
