import type { Readable } from 'node:stream';

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObjectInfo {
  key: string;
  size: number;
  lastModified: Date | null;
}

export interface StorageListPage {
  objects: StoredObjectInfo[];
  /** Pass back to continue; null on the last page. */
  nextCursor: string | null;
}

/**
 * Where bytes live. The registry's blob store, backups and mirrors all write through this, so a
 * backend (local folder now; S3, Azure, GCS next) can be swapped without touching them.
 */
export interface StorageBackend {
  readonly description: string;
  put(key: string, body: Readable, options?: { signal?: AbortSignal }): Promise<StoredObjectInfo>;
  /** Stores a finished local file; backends may move it in (it is the caller's temp file). */
  putFile(key: string, filePath: string, options?: { signal?: AbortSignal }): Promise<StoredObjectInfo>;
  get(key: string, options?: { range?: ByteRange; signal?: AbortSignal }): Promise<Readable>;
  head(key: string): Promise<StoredObjectInfo | null>;
  delete(key: string): Promise<void>;
  list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<StorageListPage>;
}
