import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { DepotError } from '../../../shared/errors';

export type DigestAlgorithm = 'blake2b512' | 'sha256';

export interface FileDigests {
  digests: Record<DigestAlgorithm, Buffer>;
  size: number;
}

export interface DigestFileOptions {
  signal?: AbortSignal | undefined;
  /** Bytes hashed so far by the slowest digest. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** From this size on, each digest runs on a worker thread of its own (default 64 MiB). */
  workersFromBytes?: number;
}

// Plain CommonJS so it runs with `eval: true` from any bundle (CLI, Electron main, host) without a separate file.
// Synchronous 1 MiB reads on a worker hash as fast as `b2sum`; a read stream on the main thread is ~40 % slower.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const hash = createHash(workerData.algorithm);
const buffer = Buffer.allocUnsafe(1024 * 1024);
const progressEvery = 32 * 1024 * 1024;
let fd = -1;
try {
  fd = fs.openSync(workerData.path, 'r');
  let size = 0;
  let reported = 0;
  for (;;) {
    const read = fs.readSync(fd, buffer, 0, buffer.length, null);
    if (read === 0) break;
    hash.update(read === buffer.length ? buffer : buffer.subarray(0, read));
    size += read;
    if (size - reported >= progressEvery) {
      reported = size;
      parentPort.postMessage({ type: 'progress', size });
    }
  }
  const digest = hash.digest();
  parentPort.postMessage({ type: 'done', size, digest: digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.length) });
} catch (error) {
  parentPort.postMessage({ type: 'error', message: String((error && error.message) || error), code: error && error.code });
} finally {
  if (fd >= 0) fs.closeSync(fd);
}
`;

type WorkerReply = { type: 'progress'; size: number } | { type: 'done'; size: number; digest: ArrayBuffer } | { type: 'error'; message: string; code?: string };

/**
 * Hashes a file with several digests in one pass of wall time: small files on a read stream here, big
 * ones with one worker thread per digest (each reads the file itself; the page cache serves the second),
 * so SHA-256 costs nothing next to BLAKE2b on a machine with two cores. Abort stops the workers.
 */
export async function digestFile(filePath: string, algorithms: readonly DigestAlgorithm[], options: DigestFileOptions = {}): Promise<FileDigests> {
  options.signal?.throwIfAborted();
  const { size } = await fsp.stat(filePath);
  if (size < (options.workersFromBytes ?? 64 * 1024 * 1024)) return digestOnThisThread(filePath, algorithms, options);
  return digestOnWorkers(filePath, algorithms, options);
}

function digestOnThisThread(filePath: string, algorithms: readonly DigestAlgorithm[], options: DigestFileOptions): Promise<FileDigests> {
  return digestStream(createReadStream(filePath, { highWaterMark: 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) }), algorithms, options);
}

/** Several digests of a stream in one read on this thread (a blob from any store, or a small file). */
export async function digestStream(stream: NodeJS.ReadableStream, algorithms: readonly DigestAlgorithm[], options: Omit<DigestFileOptions, 'workersFromBytes'> = {}): Promise<FileDigests> {
  const hashes = algorithms.map((algorithm) => createHash(algorithm));
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    options.signal?.throwIfAborted();
    for (const hash of hashes) hash.update(chunk);
    size += chunk.length;
    options.onProgress?.(size);
  }
  return { digests: Object.fromEntries(algorithms.map((algorithm, index) => [algorithm, (hashes[index] as ReturnType<typeof createHash>).digest()])) as Record<DigestAlgorithm, Buffer>, size };
}

function digestOnWorkers(filePath: string, algorithms: readonly DigestAlgorithm[], options: DigestFileOptions): Promise<FileDigests> {
  return new Promise<FileDigests>((resolve, reject) => {
    const workers: Worker[] = [];
    const progress = new Map<DigestAlgorithm, number>();
    const results = new Map<DigestAlgorithm, { size: number; digest: Buffer }>();
    let settled = false;
    const finish = (error: unknown, value?: FileDigests): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      for (const worker of workers) void worker.terminate();
      if (value) resolve(value);
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onAbort = (): void => finish(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    for (const algorithm of algorithms) {
      const worker = new Worker(workerSource, { eval: true, workerData: { path: filePath, algorithm } });
      workers.push(worker);
      worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'error') {
          finish(Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
        } else if (reply.type === 'progress') {
          progress.set(algorithm, reply.size);
          if (progress.size === algorithms.length) options.onProgress?.(Math.min(...progress.values()));
        } else {
          results.set(algorithm, { size: reply.size, digest: Buffer.from(reply.digest) });
          if (results.size < algorithms.length) return;
          const sizes = new Set([...results.values()].map((result) => result.size));
          if (sizes.size !== 1) {
            finish(new DepotError('CONFLICT', 'The file changed while it was being hashed.', { reason: 'source-changed' }));
            return;
          }
          const digests = Object.fromEntries([...results].map(([name, result]) => [name, result.digest])) as Record<DigestAlgorithm, Buffer>;
          options.onProgress?.(reply.size);
          finish(null, { digests, size: reply.size });
        }
      });
      worker.on('error', (error) => finish(error));
      worker.on('exit', (code) => {
        if (!settled && !results.has(algorithm)) finish(new Error(`The ${algorithm} worker stopped (exit code ${code}).`));
      });
    }
  });
}
