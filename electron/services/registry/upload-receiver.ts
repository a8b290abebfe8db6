import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DepotError } from '../../../shared/errors';
import { fsyncFile } from '../fs/atomic-write';

export interface ReceivedUpload {
  tempPath: string;
  digestHex: string;
  size: number;
  /**
   * Received with `syncInBackground`: the fsync started as the last byte was written and runs while
   * the caller checks the bytes from the page cache. Await it before relying on the file.
   */
  synced?: Promise<void>;
}

/** Writes of up to 8 MiB: while one write runs in the thread pool the next chunks gather, then go as one writev. */
const writeBufferBytes = 8 * 1024 * 1024;

/**
 * Streams an upload into a temp file inside the data folder, hashing as it goes and stopping at the
 * size limit. Nothing is kept on failure: the temp file is removed, and the start-up sweep takes
 * what a crash leaves behind.
 */
export async function receiveUpload(
  body: Readable,
  options: { tmpDir: string; maxBytes: number; signal?: AbortSignal; onProgress?: (bytes: number) => void; name?: string; syncInBackground?: boolean },
): Promise<ReceivedUpload> {
  await fsp.mkdir(options.tmpDir, { recursive: true });
  const tempPath = path.join(options.tmpDir, `${options.name ?? 'upload'}-${randomBytes(8).toString('hex')}.part`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > options.maxBytes) {
        callback(new DepotError('PAYLOAD_TOO_LARGE', `The package is larger than the limit of ${options.maxBytes} bytes.`));
        return;
      }
      hash.update(chunk);
      options.onProgress?.(size);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(body, meter, createWriteStream(tempPath, { flags: 'wx', mode: 0o600, highWaterMark: writeBufferBytes }), options.signal ? { signal: options.signal } : {});
    const received = { tempPath, digestHex: hash.digest('hex'), size };
    if (!options.syncInBackground) {
      await fsyncFile(tempPath);
      return received;
    }
    const synced = fsyncFile(tempPath);
    // Handled here so a caller that fails before awaiting it never leaves an unhandled rejection.
    synced.catch(() => undefined);
    return { ...received, synced };
  } catch (error) {
    await fsp.rm(tempPath, { force: true });
    throw error;
  }
}
