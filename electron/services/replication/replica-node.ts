import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import { replicaCommitMarkerSchema, replicaKeys, replicaMetaRecordSchema, replicationNodeKind, type ReplicaCommitMarker, type ReplicaMetaRecord, type ReplicationNodeConfig } from '../../../shared/domain/replication';
import type { ByteRange, StorageBackend } from '../storage/storage-backend';
import { parseBlobStoreUrl } from '../storage/blob-store-url';
import { createStorageBackend } from '../storage/storage-factory';
import { resolveSecretReference } from '../secrets/secret-reference';
import { ReplicaHashTree } from './replica-hash-tree';
import { PeerReplicaStorage } from './replica-peer-storage';

/** Where a node's bytes come from: the registry's own blob store. */
export interface ReplicaSource {
  open(digestHex: string): Promise<Readable>;
}

const credentialVariables: Record<string, string> = {
  access_key_id: 'AWS_ACCESS_KEY_ID',
  secret_access_key: 'AWS_SECRET_ACCESS_KEY',
  session_token: 'AWS_SESSION_TOKEN',
  account_key: 'AZURE_STORAGE_KEY',
  sas_token: 'AZURE_STORAGE_SAS_TOKEN',
  hmac_access_key: 'GCS_HMAC_ACCESS_KEY',
  hmac_secret: 'GCS_HMAC_SECRET',
};

/**
 * A storage node's backend, from its storage URL (the `--blob-store` syntax) and its secret
 * references; only the node's own secrets are visible to the URL parser, never the process's.
 */
export async function storageForNode(node: ReplicationNodeConfig, env: NodeJS.ProcessEnv = process.env): Promise<StorageBackend> {
  if (replicationNodeKind(node) === 'peer') {
    const apiKey = node.credentials.api_key === undefined ? null : await resolveSecretReference(node.credentials.api_key, { env });
    return new PeerReplicaStorage(node.endpoint, apiKey);
  }
  const secrets: NodeJS.ProcessEnv = {};
  for (const [name, reference] of Object.entries(node.credentials)) {
    const variable = credentialVariables[name];
    if (variable !== undefined && reference !== undefined) secrets[variable] = await resolveSecretReference(reference, { env });
  }
  return createStorageBackend(parseBlobStoreUrl(node.endpoint, secrets));
}

function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** A metadata record exactly as a node stores it (anti-entropy compares its size and MD5). */
export function recordText(record: ReplicaMetaRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** What a node holds of one version, as read back from it. */
export interface ReplicaCheck {
  blob: 'ok' | 'missing' | 'corrupt';
  record: ReplicaMetaRecord | null;
}

/**
 * One replication node: writes a version's blob, signature and metadata record, and reads them back
 * to confirm (size and SHA-256 of the blob as the node reports it, the record parsed and compared).
 */
export class ReplicaNode {
  private readonly backend: Promise<StorageBackend>;

  /** The backend is built once its secret references resolve; a missing secret fails each copy with its name. */
  constructor(
    readonly config: ReplicationNodeConfig,
    backend: Promise<StorageBackend>,
  ) {
    this.backend = backend;
    backend.catch(() => undefined);
  }

  get storage(): Promise<StorageBackend> {
    return this.backend;
  }

  get id(): string {
    return this.config.id;
  }

  /**
   * Copies what `record` describes: blob, signature, then the record last. Two requests per copy on
   * an object store (no look before the write, no read after it): the bytes are counted and hashed
   * as they are sent, and the store's success answer is the node's confirmation.
   */
  async writeVersion(record: ReplicaMetaRecord, source: ReplicaSource, signal?: AbortSignal): Promise<void> {
    const hex = record.digest.slice('sha256:'.length);
    const key = replicaKeys.blob(hex);
    const storage = await this.backend;
    const hash = createHash('sha256');
    const opened = await source.open(hex);
    const body = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    opened.once('error', (error) => body.destroy(error));
    const written = await storage.put(key, opened.pipe(body), { contentType: 'application/x-torshpkg', metadata: { sha256: hex }, readBack: false, ...(signal ? { signal } : {}) });
    const sent = hash.digest('hex');
    if (written.size !== record.size || sent !== hex || written.metadata?.sha256 !== hex) {
      // Never leave bytes that do not match their name.
      await storage.delete(key).catch(() => undefined);
      throw new DepotError('DIGEST_MISMATCH', `${this.id}: ${key} was written as ${written.size} bytes hashing to sha256:${sent} (expected ${record.size} bytes, ${record.digest}).`);
    }
    await this.writeRecord(record, signal);
  }

  /** Writes the signature and the metadata record (its size and recorded digest checked). */
  async writeRecord(record: ReplicaMetaRecord, signal?: AbortSignal): Promise<void> {
    const hex = record.digest.slice('sha256:'.length);
    const storage = await this.backend;
    const signature = record.signatures[0];
    if (signature !== undefined) {
      await storage.put(replicaKeys.signature(hex), Readable.from([Buffer.from(signature)]), { contentType: 'text/plain', readBack: false, ...(signal ? { signal } : {}) });
    }
    const text = recordText(record);
    const metaKey = replicaKeys.meta(record.name, record.version);
    const digest = sha256Hex(text);
    const written = await storage.put(metaKey, Readable.from([Buffer.from(text)]), { contentType: 'application/json', metadata: { sha256: digest }, readBack: false, ...(signal ? { signal } : {}) });
    if (written.size !== Buffer.byteLength(text) || written.metadata?.sha256 !== digest) throw new DepotError('DIGEST_MISMATCH', `${this.id}: ${metaKey} reads back different from what was written.`);
  }

  async readRecord(name: string, version: string): Promise<ReplicaMetaRecord | null> {
    const key = replicaKeys.meta(name, version);
    const storage = await this.backend;
    if (!(await storage.head(key))) return null;
    const parsed = replicaMetaRecordSchema.safeParse(JSON.parse((await readAll(await storage.get(key))).toString('utf8')) as unknown);
    return parsed.success ? parsed.data : null;
  }

  /** Checks a version's copy: by size and recorded digest, or (`deep`) by re-hashing the bytes. */
  async check(name: string, version: string, digest: string, size: number, deep: boolean): Promise<ReplicaCheck> {
    const hex = digest.slice('sha256:'.length);
    const storage = await this.backend;
    const info = await storage.head(replicaKeys.blob(hex));
    let blob: ReplicaCheck['blob'] = 'ok';
    if (!info) blob = 'missing';
    else if (info.size !== size || info.metadata?.sha256 !== hex) blob = 'corrupt';
    else if (deep) {
      const hash = createHash('sha256');
      for await (const chunk of await storage.get(replicaKeys.blob(hex))) hash.update(chunk as Buffer);
      if (hash.digest('hex') !== hex) blob = 'corrupt';
    }
    let record: ReplicaMetaRecord | null = null;
    try {
      record = await this.readRecord(name, version);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
    return { blob, record };
  }

  /**
   * The node's hash tree over the keys anti-entropy expects there (others are not its business), from
   * listings (1,000 keys a request) instead of a request per object. With `md5`, records carry the
   * store's ETag (an S3 single-part ETag is the MD5 of the bytes), so a stale record shows too.
   */
  async listTree(expected: ReadonlySet<string>, md5: boolean, signal?: AbortSignal): Promise<ReplicaHashTree> {
    const storage = await this.backend;
    const tree = new ReplicaHashTree();
    for (const prefix of ['blobs/sha256/', 'meta/']) {
      let cursor: string | undefined;
      do {
        signal?.throwIfAborted();
        const page = await storage.list(prefix, { limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const object of page.objects) {
          if (!expected.has(object.key)) continue;
          const etag = object.etag ?? null;
          tree.add({ key: object.key, size: object.size, md5: md5 && prefix === 'meta/' && etag !== null && /^[0-9a-f]{32}$/.test(etag) ? etag : null });
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    return tree;
  }

  /** Opens a version's bytes on this node (read failover, rebuild). */
  async open(digest: string, range?: ByteRange): Promise<Readable> {
    return (await this.backend).get(replicaKeys.blob(digest.slice('sha256:'.length)), range ? { range } : {});
  }

  async deleteRecord(name: string, version: string): Promise<void> {
    const storage = await this.backend;
    await storage.delete(replicaKeys.commit(name, version));
    await storage.delete(replicaKeys.meta(name, version));
  }

  /** A strong write's commit marker, written once every replica confirmed. */
  async writeMarker(marker: ReplicaCommitMarker, signal?: AbortSignal): Promise<void> {
    const text = `${JSON.stringify(marker)}\n`;
    await (await this.backend).put(replicaKeys.commit(marker.name, marker.version), Readable.from([Buffer.from(text)]), { contentType: 'application/json', ...(signal ? { signal } : {}) });
  }

  async readMarker(name: string, version: string): Promise<ReplicaCommitMarker | null> {
    const storage = await this.backend;
    const key = replicaKeys.commit(name, version);
    if (!(await storage.head(key))) return null;
    const parsed = replicaCommitMarkerSchema.safeParse(JSON.parse((await readAll(await storage.get(key))).toString('utf8')) as unknown);
    return parsed.success ? parsed.data : null;
  }

  /** Drops a bad copy so the next write replaces it instead of trusting its size and recorded digest. */
  async deleteBlob(digest: string): Promise<void> {
    await (await this.backend).delete(replicaKeys.blob(digest.slice('sha256:'.length)));
  }
}
