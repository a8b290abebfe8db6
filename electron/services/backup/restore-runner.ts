import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DepotError } from '../../../shared/errors';
import { fsyncDirectory } from '../fs/atomic-write';
import type { BackupRepository, ChunkIndex, ChunkLocation } from './backup-repository';
import { readObject, objectKeys } from './repository-format';
import type { Snapshot, SnapshotFile } from './repository-format';
import { withLock } from './repository-lock';

export interface RestoreProgress {
  filesDone: number;
  filesTotal: number;
  bytesWritten: number;
  bytesTotal: number;
}

export interface RestoreRequest {
  snapshot: Snapshot;
  targetDir: string;
  /** Only these snapshot paths (default: every file). */
  paths?: string[];
  signal?: AbortSignal;
  onProgress?: (progress: RestoreProgress) => void;
  /** Chunks fetched ahead of the writer. */
  concurrency?: number;
}

export interface RestoreResult {
  files: Array<{ path: string; size: number; sha256: string; target: string }>;
  bytes: number;
}

/** A snapshot path must stay inside the target folder. */
export function safeTargetPath(targetDir: string, snapshotPath: string): string {
  const parts = snapshotPath.split('/');
  if (snapshotPath === '' || path.isAbsolute(snapshotPath) || snapshotPath.includes('\\') || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new DepotError('VALIDATION_FAILED', `The snapshot holds an unsafe path ${JSON.stringify(snapshotPath.slice(0, 200))}.`, { reason: 'unsafe-path' });
  }
  return path.join(targetDir, ...parts);
}

/**
 * Restores files of a snapshot. Each file is written to a temporary name beside its target,
 * its SHA-256 checked against the snapshot, then fsynced and renamed: a restored file is either
 * complete and verified or not there. Files already present with the right digest are skipped,
 * so an interrupted restore resumes where it stopped.
 */
export async function runRestore(repository: BackupRepository, request: RestoreRequest): Promise<RestoreResult> {
  return withLock(repository.storage, 'shared', 'restore', async () => {
    const index = await repository.loadIndex();
    const wanted = request.paths ? new Set(request.paths) : null;
    const files = request.snapshot.files.filter((file) => !wanted || wanted.has(file.path));
    if (wanted) {
      const missing = [...wanted].filter((name) => !files.some((file) => file.path === name));
      if (missing.length > 0) throw new DepotError('NOT_FOUND', `The snapshot has no ${missing.slice(0, 3).join(', ')}.`, { reason: 'no-such-path' });
    }
    for (const file of files) {
      safeTargetPath(request.targetDir, file.path);
      const lost = file.chunks.find((id) => !index.chunks.has(id));
      if (lost) throw new DepotError('NOT_FOUND', `Chunk ${lost.slice(0, 12)} of ${file.path} is in no index: the repository is damaged (run backup verify).`, { reason: 'chunk-missing' });
    }
    const progress: RestoreProgress = { filesDone: 0, filesTotal: files.length, bytesWritten: 0, bytesTotal: files.reduce((sum, file) => sum + file.size, 0) };
    const result: RestoreResult = { files: [], bytes: 0 };
    for (const file of files) {
      request.signal?.throwIfAborted();
      const target = safeTargetPath(request.targetDir, file.path);
      if (!(await alreadyRestored(target, file))) await restoreFile(repository, index, file, target, request, progress);
      progress.filesDone += 1;
      request.onProgress?.({ ...progress });
      result.files.push({ path: file.path, size: file.size, sha256: file.sha256, target });
      result.bytes += file.size;
    }
    return result;
  });
}

async function alreadyRestored(target: string, file: SnapshotFile): Promise<boolean> {
  const stat = await fsp.stat(target).catch(() => null);
  if (!stat?.isFile() || stat.size !== file.size) return false;
  const hash = createHash('sha256');
  const handle = await fsp.open(target, 'r');
  try {
    for await (const part of handle.createReadStream({ highWaterMark: 1024 * 1024 })) hash.update(part as Buffer);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return hash.digest('hex') === file.sha256;
}

async function restoreFile(repository: BackupRepository, index: ChunkIndex, file: SnapshotFile, target: string, request: RestoreRequest, progress: RestoreProgress): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.restore-${randomBytes(6).toString('hex')}`);
  const handle = await fsp.open(temp, 'wx', 0o600);
  const hash = createHash('sha256');
  let done = false;
  const pending: Array<Promise<Buffer[]>> = [];
  try {
    const runs = readRuns(file, index);
    const ahead = Math.max(1, request.concurrency ?? 4);
    let next = 0;
    const fetchNext = (): void => {
      const run = runs[next];
      next += 1;
      if (!run) return;
      const read = readRun(repository, run);
      // Marked as handled now; the rejection still reaches the await below in order.
      read.catch(() => undefined);
      pending.push(read);
    };
    while (next < runs.length && pending.length < ahead) fetchNext();
    while (pending.length > 0) {
      request.signal?.throwIfAborted();
      const chunks = await (pending.shift() as Promise<Buffer[]>);
      if (next < runs.length) fetchNext();
      for (const chunk of chunks) {
        hash.update(chunk);
        progress.bytesWritten += chunk.length;
      }
      // One vectored write per run (up to 16 MiB) instead of one write per chunk.
      await writeAll(handle, chunks);
      request.onProgress?.({ ...progress });
    }
    const digest = hash.digest('hex');
    if (digest !== file.sha256) throw new DepotError('DIGEST_MISMATCH', `${file.path} restored with SHA-256 ${digest}, the snapshot says ${file.sha256}: nothing was written.`, { reason: 'restore-digest-mismatch' });
    await handle.chmod(file.mode || 0o644);
    await handle.sync();
    await handle.close();
    done = true;
    await fsp.rename(temp, target);
    await fsyncDirectory(path.dirname(target));
  } finally {
    // Let the prefetches settle so none rejects unobserved.
    await Promise.allSettled(pending);
    if (!done) await handle.close().catch(() => undefined);
    await fsp.rm(temp, { force: true });
  }
}

const maxRunBytes = 16 * 1024 * 1024;

/** `writev` may write less than asked (as `write` may): loops until every byte is down. */
async function writeAll(handle: fsp.FileHandle, chunks: Buffer[]): Promise<void> {
  const left = chunks.filter((chunk) => chunk.length > 0);
  while (left.length > 0) {
    const { bytesWritten } = await handle.writev(left);
    let skip = bytesWritten;
    while (left.length > 0 && skip >= (left[0]?.length ?? 0)) skip -= left.shift()?.length ?? 0;
    if (skip > 0 && left[0]) left[0] = left[0].subarray(skip);
  }
}

/** Consecutive chunks stored back to back in one pack are fetched with one ranged read. */
function readRuns(file: SnapshotFile, index: ChunkIndex): ChunkLocation[][] {
  const runs: ChunkLocation[][] = [];
  let runBytes = 0;
  for (const id of file.chunks) {
    const location = index.chunks.get(id);
    if (!location) throw new DepotError('NOT_FOUND', `Chunk ${id.slice(0, 12)} of ${file.path} is in no index.`, { reason: 'chunk-missing' });
    const run = runs.at(-1);
    const previous = run?.at(-1);
    if (run && previous && previous.pack === location.pack && previous.offset + previous.length === location.offset && runBytes + location.length <= maxRunBytes) {
      run.push(location);
      runBytes += location.length;
    } else {
      runs.push([location]);
      runBytes = location.length;
    }
  }
  return runs;
}

async function readRun(repository: BackupRepository, run: ChunkLocation[]): Promise<Buffer[]> {
  const first = run[0];
  const last = run.at(-1);
  if (!first || !last) return [];
  const start = first.offset;
  const bytes = await readObject(repository.storage, objectKeys.packKey(first.pack), { start, end: last.offset + last.length - 1 });
  if (bytes.length !== last.offset + last.length - start) throw new DepotError('DIGEST_MISMATCH', `Pack ${first.pack} is shorter than its index says.`, { reason: 'pack-truncated' });
  // Every chunk is authenticated by AES-GCM and the whole file's SHA-256 is checked before it lands.
  return Promise.all(run.map((location) => repository.openBlob(location, bytes.subarray(location.offset - start, location.offset - start + location.length), undefined, { checkId: false })));
}
