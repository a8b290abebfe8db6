import type { Readable } from 'node:stream';
import { StorageError } from './storage-errors';

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObjectInfo {
  key: string;
  size: number;
  lastModified: Date | null;
  /** The store's entity tag, without quotes (null when the backend has none, e.g. a local folder). */
  etag?: string | null;
  contentType?: string | null;
  cacheControl?: string | null;
  /** User metadata (S3 `x-amz-meta-*`, Azure metadata); names in lower case. */
  metadata?: Record<string, string>;
}

export interface StorageListPage {
  objects: StoredObjectInfo[];
  /** Pass back to continue; null on the last page. */
  nextCursor: string | null;
}

export interface PutOptions {
  contentType?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /** Called with the bytes sent so far (progress for long uploads). */
  onProgress?: (bytesSent: number) => void;
  /**
   * false: the caller checks the write itself (replication counts and hashes what it sends), so a
   * backend that would read the object back answers with what it sent instead (one request fewer).
   */
  readBack?: boolean;
}

export interface StorageUsage {
  objects: number;
  bytes: number;
  /** Known only for a local disk; object stores have no fixed capacity. */
  capacityBytes: number | null;
}

export type StorageBackendKind = 'local' | 's3' | 'azure' | 'gcs';

/**
 * Where bytes live. The registry's blob store, backups and mirrors all write through this, so a
 * backend (local folder, S3-compatible, Azure Blob, GCS) can be swapped without touching them.
 * Failures are `StorageError`s (NotFound, AccessDenied, Unavailable, Conflict, InvalidConfig).
 */
export interface StorageBackend {
  readonly kind: StorageBackendKind;
  readonly description: string;
  put(key: string, body: Readable, options?: PutOptions): Promise<StoredObjectInfo>;
  /** Stores a finished local file; backends may move it in (it is the caller's temp file). */
  putFile(key: string, filePath: string, options?: PutOptions): Promise<StoredObjectInfo>;
  get(key: string, options?: { range?: ByteRange; signal?: AbortSignal }): Promise<Readable>;
  /** null when there is no such object. */
  head(key: string): Promise<StoredObjectInfo | null>;
  /** Deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<StorageListPage>;
  /** Server-side copy inside this backend; keeps content type, Cache-Control and metadata. */
  copy(sourceKey: string, targetKey: string): Promise<StoredObjectInfo>;
  /** A URL anyone can GET (or PUT) for `expiresInSeconds`; absent where the backend cannot sign. */
  presignGet?(key: string, expiresInSeconds: number): Promise<string>;
  presignPut?(key: string, expiresInSeconds: number): Promise<string>;
  usage(prefix?: string): Promise<StorageUsage>;
  /** Proves the store answers and the credentials are accepted (a cheap list call). */
  check(): Promise<void>;
}

/** The object just written, as the store now reports it; a store that cannot see it yet is Unavailable. */
export async function headAfterWrite(storage: StorageBackend, key: string): Promise<StoredObjectInfo> {
  const info = await storage.head(key);
  if (!info) throw new StorageError('Unavailable', `${key} is not visible in ${storage.description} right after it was written`);
  return info;
}
