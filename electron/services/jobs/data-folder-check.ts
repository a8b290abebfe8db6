import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { DataFolderCheckResult } from '../../../shared/domain/jobs';
import { DepotError } from '../../../shared/errors';
import type { JobContext } from './job-runner';

const chunkBytes = 1024 * 1024;

/**
 * Checks the data folder for real: SQLite's quick_check, then writes `sizeMiB` of incompressible
 * data with fsync, reads it back, verifies its digest, and reports the disk's throughput.
 */
export async function runDataFolderCheck(
  db: Database,
  scratchDir: string,
  sizeMiB: number,
  context: JobContext,
): Promise<DataFolderCheckResult> {
  const { signal } = context;
  context.reportProgress(0, 'Checking the database');
  const integrity = (db.pragma('quick_check', { simple: true }) as string) ?? 'unknown';
  if (integrity !== 'ok') throw new DepotError('INTERNAL', `The database failed its integrity check: ${integrity}`);
  signal.throwIfAborted();

  await fsp.mkdir(scratchDir, { recursive: true });
  const file = path.join(scratchDir, `.data-folder-check-${randomBytes(6).toString('hex')}`);
  const block = randomBytes(chunkBytes);
  const written = createHash('sha256');
  const totalBytes = sizeMiB * chunkBytes;
  const writeShare = 0.5;
  try {
    const writeStarted = performance.now();
    const out = await fsp.open(file, 'wx', 0o600);
    try {
      for (let index = 0; index < sizeMiB; index += 1) {
        signal.throwIfAborted();
        // Vary each chunk so no layer below can deduplicate or compress the test away.
        block.writeUInt32LE(index, 0);
        written.update(block);
        await out.write(block, 0, chunkBytes);
        context.reportProgress(0.05 + (writeShare - 0.05) * ((index + 1) / sizeMiB), `Writing ${index + 1} of ${sizeMiB} MiB`);
      }
      await out.sync();
    } finally {
      await out.close();
    }
    const writeSeconds = (performance.now() - writeStarted) / 1000;

    const readStarted = performance.now();
    const readHash = createHash('sha256');
    const input = await fsp.open(file, 'r');
    try {
      const buffer = Buffer.allocUnsafe(chunkBytes);
      let offset = 0;
      while (offset < totalBytes) {
        signal.throwIfAborted();
        const { bytesRead } = await input.read(buffer, 0, chunkBytes, offset);
        if (bytesRead === 0) break;
        readHash.update(buffer.subarray(0, bytesRead));
        offset += bytesRead;
        context.reportProgress(writeShare + (1 - writeShare) * (offset / totalBytes), `Reading back ${Math.round(offset / chunkBytes)} of ${sizeMiB} MiB`);
      }
    } finally {
      await input.close();
    }
    const readSeconds = (performance.now() - readStarted) / 1000;
    if (readHash.digest('hex') !== written.digest('hex')) {
      throw new DepotError('DIGEST_MISMATCH', 'The data folder returned different bytes than were written: the disk or file system is unreliable.');
    }
    const stats = await fsp.statfs(scratchDir).catch(() => undefined);
    return {
      databaseIntegrity: integrity,
      bytesTested: totalBytes,
      writeBytesPerSecond: totalBytes / Math.max(writeSeconds, 1e-6),
      readBytesPerSecond: totalBytes / Math.max(readSeconds, 1e-6),
      freeBytes: stats ? stats.bavail * stats.bsize : null,
    };
  } finally {
    await fsp.rm(file, { force: true });
  }
}
