import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import type { ByteRange, StorageBackend } from '../storage/storage-backend';

const hexDigest = /^[0-9a-f]{64}$/;

/**
 * Content-addressed blobs (SHA-256) on any storage backend, under `<prefix>blobs/sha256/<hex>` so
 * any tool pointed at the bucket or folder finds them. Identical bytes are stored once.
 */
export class BlobStore {
  constructor(
    private readonly backend: StorageBackend,
    private readonly options: { prefix?: string; verifyOnRead?: () => boolean } = {},
  ) {}

  get description(): string {
    return this.backend.description;
  }

  keyFor(digestHex: string): string {
    if (!hexDigest.test(digestHex)) throw new DepotError('VALIDATION_FAILED', `Not a SHA-256 hex digest: ${digestHex.slice(0, 80)}`);
    return `${this.options.prefix ?? ''}blobs/sha256/${digestHex}`;
  }

  async has(digestHex: string): Promise<boolean> {
    return (await this.backend.head(this.keyFor(digestHex))) !== null;
  }

  /**
   * Stores a local file whose digest the caller computed while receiving it. The file is consumed
   * (moved in or deleted by the caller). Returns false when the blob was already there.
   */
  async storeFile(digestHex: string, filePath: string, size: number, signal?: AbortSignal): Promise<boolean> {
    const key = this.keyFor(digestHex);
    const existing = await this.backend.head(key);
    if (existing && existing.size === size) return false;
    await this.backend.putFile(key, filePath, signal ? { signal } : {});
    return true;
  }

  /** Streams a blob; full reads are re-hashed when verify-on-read is on and fail loudly on mismatch. */
  async open(digestHex: string, range?: ByteRange): Promise<Readable> {
    const stream = await this.backend.get(this.keyFor(digestHex), range ? { range } : {});
    if (range || !this.options.verifyOnRead?.()) return stream;
    const hash = createHash('sha256');
    const verifier = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
      flush(callback) {
        const actual = hash.digest('hex');
        callback(actual === digestHex ? null : new DepotError('DIGEST_MISMATCH', `Stored blob ${digestHex} is corrupt (reads as ${actual}).`));
      },
    });
    stream.on('error', (error) => verifier.destroy(error));
    return stream.pipe(verifier);
  }

  /** Proves the backend answers (start-up of a host with a remote blob store). */
  check(): Promise<void> {
    return this.backend.check();
  }

  /** A short-lived URL for the whole blob, where the backend can sign one (S3, GCS, Azure with a key). */
  async presignedUrl(digestHex: string, expiresInSeconds: number): Promise<string | null> {
    return this.backend.presignGet ? this.backend.presignGet(this.keyFor(digestHex), expiresInSeconds) : null;
  }

  /** Every stored blob, page by page (garbage collection); keys that are not a digest are skipped. */
  async *listBlobs(signal?: AbortSignal): AsyncGenerator<{ digestHex: string; size: number; lastModified: Date | null }> {
    const prefix = `${this.options.prefix ?? ''}blobs/sha256/`;
    let cursor: string | null = null;
    do {
      signal?.throwIfAborted();
      const page = await this.backend.list(prefix, cursor === null ? {} : { cursor });
      for (const object of page.objects) {
        const digestHex = object.key.slice(prefix.length);
        if (hexDigest.test(digestHex)) yield { digestHex, size: object.size, lastModified: object.lastModified };
      }
      cursor = page.nextCursor;
    } while (cursor);
  }

  async delete(digestHex: string): Promise<void> {
    await this.backend.delete(this.keyFor(digestHex));
  }
}
