import { Readable } from 'node:stream';
import { z } from 'zod';
import { StorageError, kindForHttpStatus } from '../storage/storage-errors';
import type { ByteRange, PutOptions, StorageBackend, StorageListPage, StorageUsage, StoredObjectInfo } from '../storage/storage-backend';

const answerSchema = z.object({ size: z.number().int().min(0), sha256: z.string() });

/**
 * A registry peer seen as a replication node: another `torsh-depot serve` that takes the keys of a
 * storage node through `PUT /api/v1/replication/replica/<key>` with an API key holding `Replicate`,
 * and applies them to its own registry. It answers each write with the size and SHA-256 it received,
 * which is the confirmation. A peer is written to, not read from or listed: reads fail over to
 * storage nodes, and anti-entropy reports a peer as not listable.
 */
export class PeerReplicaStorage implements StorageBackend {
  readonly kind = 's3' as const;
  readonly description: string;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string | null,
    private readonly fetcher: typeof fetch = fetch,
  ) {
    this.description = `registry peer ${baseUrl}`;
  }

  private url(key: string): string {
    return `${this.baseUrl.replace(/\/$/, '')}/api/v1/replication/replica/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<StoredObjectInfo> {
    let answer: Response;
    try {
      answer = await this.fetcher(this.url(key), {
        method: 'PUT',
        headers: { 'Content-Type': options.contentType ?? 'application/octet-stream', ...(this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {}) },
        body: Readable.toWeb(body) as ReadableStream,
        duplex: 'half',
        ...(options.signal ? { signal: options.signal } : {}),
      } as RequestInit);
    } catch (error) {
      throw new StorageError('Unavailable', `${this.description} did not answer`, { cause: error, backendMessage: (error as Error).message });
    }
    const text = await answer.text();
    if (!answer.ok) {
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON: the text itself
      }
      throw new StorageError(kindForHttpStatus(answer.status), `${this.description} refused ${key} (HTTP ${answer.status})`, { backendMessage: message });
    }
    const received = answerSchema.parse(JSON.parse(text) as unknown);
    // The peer's own count and digest: what it holds, not what was sent.
    return { key, size: received.size, lastModified: null, etag: null, contentType: options.contentType ?? null, metadata: { sha256: received.sha256 } };
  }

  async putFile(): Promise<StoredObjectInfo> {
    return Promise.reject(this.notSupported('file uploads'));
  }

  async get(key: string, options: { range?: ByteRange } = {}): Promise<Readable> {
    void options;
    return Promise.reject(this.notSupported(`reading ${key}`));
  }

  async head(): Promise<StoredObjectInfo | null> {
    return Promise.reject(this.notSupported('looking objects up'));
  }

  async delete(key: string): Promise<void> {
    return Promise.reject(this.notSupported(`deleting ${key}`));
  }

  async list(): Promise<StorageListPage> {
    return Promise.reject(this.notSupported('listing'));
  }

  async copy(): Promise<StoredObjectInfo> {
    return Promise.reject(this.notSupported('copies'));
  }

  async usage(): Promise<StorageUsage> {
    return Promise.reject(this.notSupported('usage'));
  }

  async check(): Promise<void> {
    return Promise.resolve();
  }

  private notSupported(what: string): StorageError {
    return new StorageError('InvalidConfig', `${this.description}: ${what} is not supported on a registry peer in this build (peers are written to only)`);
  }
}
