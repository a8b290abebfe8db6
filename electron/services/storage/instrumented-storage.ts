import { Transform, type Readable } from 'node:stream';
import { backoffDelayMs, sleep } from '../retry/retry-backoff';
import { isTransientStorageError } from './storage-errors';
import type { StorageOperation, StorageStatsRepository } from './storage-stats';
import type { ByteRange, PutOptions, StorageBackend, StorageListPage, StorageUsage, StoredObjectInfo } from './storage-backend';

export interface RetryPolicy {
  /** Attempts after the first one, for transient (Unavailable) errors only. */
  retries: number;
  baseMs: number;
  maxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 3, baseMs: 200, maxMs: 5_000 };

/**
 * A backend wrapped with retries (transient errors, with jittered backoff) and per-backend stats.
 * A stream upload cannot be replayed, so `put` is never retried; every other call is idempotent.
 */
export class InstrumentedStorage implements StorageBackend {
  constructor(
    readonly id: string,
    readonly inner: StorageBackend,
    private readonly stats: StorageStatsRepository,
    private readonly policy: RetryPolicy = defaultRetryPolicy,
  ) {}

  get kind(): StorageBackend['kind'] {
    return this.inner.kind;
  }

  get description(): string {
    return this.inner.description;
  }

  private async call<T>(operation: StorageOperation, work: () => Promise<T>, options: { retry: boolean; signal?: AbortSignal | undefined; written?: (result: T) => number }): Promise<T> {
    const started = performance.now();
    let retries = 0;
    for (;;) {
      try {
        const result = await work();
        this.stats.record(this.id, { operation, latencyMs: performance.now() - started, retries, bytesWritten: options.written?.(result) ?? 0 });
        return result;
      } catch (error) {
        if (options.retry && retries < this.policy.retries && isTransientStorageError(error) && !options.signal?.aborted) {
          retries += 1;
          await sleep(backoffDelayMs(retries, this.policy), options.signal);
          continue;
        }
        this.stats.record(this.id, { operation, latencyMs: performance.now() - started, retries, error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    }
  }

  put(key: string, body: Readable, options?: PutOptions): Promise<StoredObjectInfo> {
    return this.call('put', () => this.inner.put(key, body, options), { retry: false, signal: options?.signal, written: (info) => info.size });
  }

  putFile(key: string, filePath: string, options?: PutOptions): Promise<StoredObjectInfo> {
    return this.call('put', () => this.inner.putFile(key, filePath, options), { retry: true, signal: options?.signal, written: (info) => info.size });
  }

  async get(key: string, options?: { range?: ByteRange; signal?: AbortSignal }): Promise<Readable> {
    const stream = await this.call('get', () => this.inner.get(key, options), { retry: true, signal: options?.signal });
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    const flush = (): void => {
      if (bytes > 0) this.stats.addBytesRead(this.id, bytes);
      bytes = 0;
    };
    counter.once('end', flush);
    counter.once('close', flush);
    stream.on('error', (error) => counter.destroy(error));
    return stream.pipe(counter);
  }

  head(key: string): Promise<StoredObjectInfo | null> {
    return this.call('other', () => this.inner.head(key), { retry: true });
  }

  delete(key: string): Promise<void> {
    return this.call('delete', () => this.inner.delete(key), { retry: true });
  }

  list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<StorageListPage> {
    return this.call('other', () => this.inner.list(prefix, options), { retry: true });
  }

  copy(sourceKey: string, targetKey: string): Promise<StoredObjectInfo> {
    return this.call('other', () => this.inner.copy(sourceKey, targetKey), { retry: true });
  }

  get presignGet(): ((key: string, expiresInSeconds: number) => Promise<string>) | undefined {
    const inner = this.inner;
    return inner.presignGet ? (key, expiresInSeconds) => inner.presignGet!(key, expiresInSeconds) : undefined;
  }

  get presignPut(): ((key: string, expiresInSeconds: number) => Promise<string>) | undefined {
    const inner = this.inner;
    return inner.presignPut ? (key, expiresInSeconds) => inner.presignPut!(key, expiresInSeconds) : undefined;
  }

  usage(prefix?: string): Promise<StorageUsage> {
    return this.call('other', () => this.inner.usage(prefix), { retry: true });
  }

  check(): Promise<void> {
    return this.call('other', () => this.inner.check(), { retry: false });
  }
}
