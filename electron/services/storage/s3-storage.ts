import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig, S3ServiceException, ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';
import type { Upload } from '@aws-sdk/lib-storage';
import type { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { isAbortError } from '../../../shared/errors';
import { fsyncDirectory, tempPathFor } from '../fs/atomic-write';
import { BatchedWriter } from '../registry-client/batched-writer';
import { cancelledError } from '../retry/retry-backoff';
import { StorageError, isNetworkError, kindForHttpStatus } from './storage-errors';
import { normalizePrefix, prefixedKey } from './object-key';
import { usageByListing } from './usage-by-listing';
import type { MultipartJournal, JournalPart } from './multipart-journal';
import { headAfterWrite, type ByteRange, type PutOptions, type StorageBackend, type StorageListPage, type StorageUsage, type StoredObjectInfo } from './storage-backend';

const MiB = 1024 * 1024;
/** S3's limits: parts of 5 MiB to 5 GiB, at most 10,000 of them. */
export const minPartSize = 5 * MiB;
const maxParts = 10_000;

interface AwsSdk {
  s3: typeof S3Sdk;
  Upload: typeof Upload;
  getSignedUrl: typeof getSignedUrl;
}

let sdkLoading: Promise<AwsSdk> | null = null;
/** Set once loaded, for the synchronous error checks (only the SDK's own calls throw its errors). */
let loadedSdk: AwsSdk | null = null;

/**
 * The AWS SDK costs ~20 MiB of memory: it loads on a first S3/GCS operation, so a process that never
 * uses one (`encrypt`, `--version`, a local store) never pays for it.
 */
function loadAwsSdk(): Promise<AwsSdk> {
  sdkLoading ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage'), import('@aws-sdk/s3-request-presigner')]).then(([s3, storage, presigner]) => {
    loadedSdk = { s3, Upload: storage.Upload, getSignedUrl: presigner.getSignedUrl };
    return loadedSdk;
  });
  return sdkLoading;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3StorageConfig {
  /** 'gcs' when this talks to GCS's S3-compatible XML API. */
  kind?: 's3' | 'gcs';
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash ('' for the bucket root). */
  prefix?: string;
  region: string;
  /** Custom endpoint (MinIO, Ceph RGW, R2, GCS); null for AWS. */
  endpoint?: string | null;
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted servers need. */
  forcePathStyle?: boolean;
  /** null: the SDK's default chain (environment, profile, instance role). */
  credentials: S3Credentials | null;
  partSizeBytes?: number;
  /** Parts uploaded at once. Memory used is about part size × concurrency. */
  concurrency?: number;
  serverSideEncryption?: 'AES256' | 'aws:kms' | null;
  kmsKeyId?: string | null;
  storageClass?: string | null;
  /**
   * Compatibility switch: servers that reject or corrupt streamed (aws-chunked) checksums — s3rver,
   * older MinIO and Ceph, GCS — need checksums only where the API requires them.
   */
  streamedChecksums?: boolean;
  /** Where multipart uploads are remembered so they resume after a restart. */
  journal?: MultipartJournal | null;
  requestTimeoutMs?: number;
}

/** Any S3-compatible object store (AWS, MinIO, Ceph RGW, Cloudflare R2, GCS interop). */
export class S3Storage implements StorageBackend {
  readonly kind: 's3' | 'gcs';
  readonly description: string;
  readonly partSizeBytes: number;
  readonly concurrency: number;
  private readonly clientConfig: S3ClientConfig;
  private clientLoading: Promise<{ client: S3Client; sdk: AwsSdk }> | null = null;
  private readonly bucket: string;
  private readonly prefix: string;
  /** Identifies bucket + endpoint in the multipart journal. */
  private readonly storeId: string;

  constructor(private readonly config: S3StorageConfig) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(config.bucket)) throw new StorageError('InvalidConfig', `Invalid bucket name "${config.bucket}" (3-63 lower-case letters, digits, dots, hyphens)`);
    this.kind = config.kind ?? 's3';
    this.bucket = config.bucket;
    this.prefix = normalizePrefix(config.prefix ?? '');
    this.partSizeBytes = config.partSizeBytes ?? 16 * MiB;
    this.concurrency = config.concurrency ?? 4;
    if (this.partSizeBytes < minPartSize || this.partSizeBytes > 5 * 1024 * MiB) throw new StorageError('InvalidConfig', 'Part size must be between 5 MiB and 5 GiB');
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1 || this.concurrency > 64) throw new StorageError('InvalidConfig', 'Concurrency must be 1 to 64');
    const endpoint = config.endpoint ?? null;
    if (endpoint !== null && !/^https?:\/\/[^/]+/.test(endpoint)) throw new StorageError('InvalidConfig', `Invalid endpoint "${endpoint}" (expected http(s)://host[:port])`);
    this.storeId = `${this.kind}:${endpoint ?? `aws:${config.region}`}/${this.bucket}`;
    this.description = `${this.kind === 'gcs' ? 'gs' : 's3'}://${this.bucket}${this.prefix ? `/${this.prefix.replace(/\/$/, '')}` : ''}${endpoint && this.kind === 's3' ? ` at ${endpoint}` : ''}`;
    // The SDK warns once per process that its 2027 releases will need Node 22: noise for our users,
    // who get the SDK version pinned in our lockfile. Respect an explicit setting.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const checksums = config.streamedChecksums ?? true;
    this.clientConfig = {
      region: config.region,
      ...(endpoint ? { endpoint } : {}),
      forcePathStyle: config.forcePathStyle ?? false,
      ...(config.credentials ? { credentials: config.credentials } : {}),
      requestChecksumCalculation: checksums ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
      responseChecksumValidation: checksums ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
      // One SDK retry absorbs a pooled keep-alive connection the server already closed ("socket hang
      // up"); longer outages are retried by StorageManager, which counts them in the stats.
      maxAttempts: 2,
      requestHandler: { requestTimeout: config.requestTimeoutMs ?? 120_000, connectionTimeout: 10_000 },
    };
  }

  /** The client, created on the first operation (loading the SDK if no backend has yet). */
  private s3(): Promise<{ client: S3Client; sdk: AwsSdk }> {
    this.clientLoading ??= loadAwsSdk().then((sdk) => ({ client: new sdk.s3.S3Client(this.clientConfig), sdk }));
    return this.clientLoading;
  }

  private fullKey(key: string): string {
    return prefixedKey(this.prefix, key);
  }

  private writeParams(options: PutOptions): {
    ContentType?: string;
    CacheControl?: string;
    Metadata?: Record<string, string>;
    ServerSideEncryption?: ServerSideEncryption;
    SSEKMSKeyId?: string;
    StorageClass?: StorageClass;
  } {
    return {
      ...(options.contentType ? { ContentType: options.contentType } : {}),
      ...(options.cacheControl ? { CacheControl: options.cacheControl } : {}),
      ...(options.metadata ? { Metadata: options.metadata } : {}),
      ...(this.config.serverSideEncryption ? { ServerSideEncryption: this.config.serverSideEncryption as ServerSideEncryption } : {}),
      ...(this.config.serverSideEncryption === 'aws:kms' && this.config.kmsKeyId ? { SSEKMSKeyId: this.config.kmsKeyId } : {}),
      ...(this.config.storageClass ? { StorageClass: this.config.storageClass as StorageClass } : {}),
    };
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<StoredObjectInfo> {
    const Key = this.fullKey(key);
    const { client, sdk } = await this.s3();
    let sent = 0;
    const counted = options.readBack === false ? countBytes(body, (length) => (sent += length)) : body;
    const upload = new sdk.Upload({
      client,
      params: { Bucket: this.bucket, Key, Body: counted, ...this.writeParams(options) },
      partSize: this.partSizeBytes,
      queueSize: this.concurrency,
      // A failed upload aborts its multipart upload: no orphan parts left to pay for.
      leavePartsOnError: false,
    });
    if (options.onProgress) upload.on('httpUploadProgress', (progress) => options.onProgress?.(progress.loaded ?? 0));
    const onAbort = (): void => void upload.abort().catch(() => undefined);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let etag: string | undefined;
    try {
      const done = await upload.done();
      etag = 'ETag' in done ? done.ETag : undefined;
    } catch (error) {
      body.destroy();
      throw this.translate(error, `Upload of ${key} to ${this.description} failed`);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (options.readBack === false) return { key, size: sent, lastModified: null, etag: unquote(etag), contentType: options.contentType ?? null, metadata: { ...options.metadata } };
    return headAfterWrite(this, key);
  }

  async putFile(key: string, filePath: string, options: PutOptions = {}): Promise<StoredObjectInfo> {
    const Key = this.fullKey(key);
    const stats = await fsp.stat(filePath);
    if (stats.size <= this.partSizeBytes) {
      const { client, sdk } = await this.s3();
      try {
        await client.send(
          // At most one part in memory, and a buffer can be re-sent if the request is retried.
          new sdk.s3.PutObjectCommand({ Bucket: this.bucket, Key, Body: await fsp.readFile(filePath), ContentLength: stats.size, ...this.writeParams(options) }),
          options.signal ? { abortSignal: options.signal } : {},
        );
      } catch (error) {
        throw this.translate(error, `Upload of ${key} to ${this.description} failed`);
      }
      options.onProgress?.(stats.size);
    } else {
      await this.putFileMultipart(Key, path.resolve(filePath), { size: stats.size, mtimeMs: stats.mtimeMs }, options);
    }
    return headAfterWrite(this, key);
  }

  /**
   * Multipart upload of a file that resumes: every finished part is journaled, so a later run (after
   * a crash, kill or transient failure) uploads only the missing parts. A cancel or a permanent
   * failure aborts the upload so no orphan parts remain.
   */
  private async putFileMultipart(Key: string, sourcePath: string, source: { size: number; mtimeMs: number }, options: PutOptions): Promise<void> {
    const journal = this.config.journal ?? null;
    const { client, sdk } = await this.s3();
    // Large files get larger parts so they stay within 10,000 parts.
    const partSize = Math.max(this.partSizeBytes, Math.ceil(source.size / maxParts));
    if (journal) await this.abortOrphans(journal);
    let entry = journal?.find(this.storeId, Key, sourcePath) ?? null;
    if (entry && (entry.sourceSize !== source.size || entry.sourceMtimeMs !== Math.floor(source.mtimeMs) || entry.partSize !== partSize)) {
      // The file changed since: its old parts are worthless.
      await this.abortUpload(Key, entry.uploadId);
      journal?.finish(entry.row);
      entry = null;
    }
    let uploadId: string;
    const done = new Map<number, JournalPart>();
    if (entry) {
      uploadId = entry.uploadId;
      for (const part of journal?.parts(entry.row) ?? []) done.set(part.partNumber, part);
    } else {
      try {
        const created = await client.send(new sdk.s3.CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ...this.writeParams(options) }));
        if (!created.UploadId) throw new StorageError('Unavailable', `${this.description} returned no upload id`);
        uploadId = created.UploadId;
      } catch (error) {
        throw this.translate(error, `Upload of ${Key} to ${this.description} failed`);
      }
      entry = journal?.begin(this.storeId, Key, { path: sourcePath, size: source.size, mtimeMs: source.mtimeMs }, uploadId, partSize) ?? null;
    }
    const row = entry?.row ?? null;
    const partCount = Math.max(1, Math.ceil(source.size / partSize));
    const pending: number[] = [];
    for (let number = 1; number <= partCount; number += 1) if (!done.has(number)) pending.push(number);
    let sent = [...done.values()].reduce((sum, part) => sum + part.size, 0);
    options.onProgress?.(sent);

    const handle = await fsp.open(sourcePath, 'r');
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const worker = async (): Promise<void> => {
        // One buffer per worker, reused for every part: memory stays at part size × concurrency
        // instead of growing with garbage buffers awaiting collection.
        const reusable = Buffer.allocUnsafe(Math.min(partSize, source.size));
        for (let number = pending.shift(); number !== undefined; number = pending.shift()) {
          controller.signal.throwIfAborted();
          const offset = (number - 1) * partSize;
          const length = Math.min(partSize, source.size - offset);
          const buffer = reusable.subarray(0, length);
          const { bytesRead } = await handle.read(buffer, 0, length, offset);
          if (bytesRead !== length) throw new StorageError('Conflict', `${sourcePath} changed while it was uploaded`);
          const answer = await client.send(new sdk.s3.UploadPartCommand({ Bucket: this.bucket, Key, UploadId: uploadId, PartNumber: number, Body: buffer, ContentLength: length }), {
            abortSignal: controller.signal,
          });
          const part = { partNumber: number, etag: answer.ETag ?? '', size: length };
          done.set(number, part);
          if (row !== null) journal?.recordPart(row, part);
          sent += length;
          options.onProgress?.(sent);
        }
      };
      const workers = Array.from({ length: Math.min(this.concurrency, Math.max(1, pending.length)) }, () => worker());
      // Stop the other workers as soon as one fails.
      await Promise.all(workers.map((work) => work.catch((error: unknown) => {
        controller.abort();
        throw error;
      })));
      const parts = [...done.values()].sort((a, b) => a.partNumber - b.partNumber).map((part) => ({ PartNumber: part.partNumber, ETag: part.etag }));
      await client.send(new sdk.s3.CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      if (row !== null) journal?.finish(row);
    } catch (error) {
      const cancelled = options.signal?.aborted === true;
      let failure: unknown = error;
      if (!cancelled) {
        try {
          failure = this.translate(error, `Upload of ${Key} to ${this.description} failed`);
        } catch (thrown) {
          failure = thrown;
        }
      }
      // A transient failure keeps the upload so a retry or a later run resumes it.
      const keepForResume = !cancelled && failure instanceof StorageError && failure.kind === 'Unavailable';
      if (!keepForResume) {
        await this.abortUpload(Key, uploadId);
        if (row !== null) journal?.finish(row);
      }
      throw cancelled ? cancelledError() : failure;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await handle.close();
    }
  }

  /**
   * Uploads interrupted by a crash whose source file is gone (a registry publish's temp file is swept
   * at start) can never resume: abort them so their parts do not stay in the bucket.
   */
  private async abortOrphans(journal: MultipartJournal): Promise<void> {
    for (const upload of journal.uploadsOf(this.storeId)) {
      if (await fsp.access(upload.sourcePath).then(() => true, () => false)) continue;
      await this.abortUpload(upload.key, upload.uploadId);
      journal.finish(upload.row);
    }
  }

  private async abortUpload(Key: string, uploadId: string): Promise<void> {
    const { client, sdk } = await this.s3();
    await client.send(new sdk.s3.AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId })).catch(() => undefined);
  }

  async get(key: string, options: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<Readable> {
    const { client, sdk } = await this.s3();
    try {
      const answer = await client.send(
        new sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), ...(options.range ? { Range: `bytes=${options.range.start}-${options.range.end}` } : {}) }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      return answer.Body as Readable;
    } catch (error) {
      throw this.translate(error, `Cannot read ${key} from ${this.description}`);
    }
  }

  /**
   * Downloads an object to a file with parallel ranged GETs (part size × concurrency in memory),
   * written to a temp file, fsynced and renamed: the file appears whole or not at all.
   */
  async downloadToFile(key: string, target: string, options: { signal?: AbortSignal } = {}): Promise<StoredObjectInfo> {
    const info = await this.head(key);
    if (!info) throw new StorageError('NotFound', `No object ${key} in ${this.description}`);
    const temp = tempPathFor(target);
    const handle = await fsp.open(temp, 'wx');
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const ranges: Array<{ start: number; end: number }> = [];
      for (let start = 0; start < info.size; start += this.partSizeBytes) ranges.push({ start, end: Math.min(info.size, start + this.partSizeBytes) - 1 });
      const worker = async (): Promise<void> => {
        for (let range = ranges.shift(); range !== undefined; range = ranges.shift()) {
          controller.signal.throwIfAborted();
          // Pin the version read: a ranged GET of a replaced object must fail, not mix two objects.
          const body = await this.getRange(key, range, info.etag ?? null, controller.signal);
          const writer = new BatchedWriter(handle, range.start);
          for await (const chunk of body) await writer.push(chunk as Buffer);
          await writer.drain();
          if (writer.written !== range.end + 1) throw new StorageError('Unavailable', `${key}: a ranged read ended early at byte ${writer.written}`);
        }
      };
      await Promise.all(
        Array.from({ length: Math.min(this.concurrency, Math.max(1, ranges.length)) }, () =>
          worker().catch((error: unknown) => {
            controller.abort();
            throw error;
          }),
        ),
      );
      await handle.sync();
      await handle.close();
      await fsp.rename(temp, target);
      await fsyncDirectory(path.dirname(target));
      return info;
    } catch (error) {
      await handle.close().catch(() => undefined);
      await fsp.rm(temp, { force: true });
      if (options.signal?.aborted) throw cancelledError();
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async getRange(key: string, range: ByteRange, etag: string | null, signal: AbortSignal): Promise<Readable> {
    const { client, sdk } = await this.s3();
    try {
      const answer = await client.send(
        new sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), Range: `bytes=${range.start}-${range.end}`, ...(etag ? { IfMatch: `"${etag}"` } : {}) }),
        { abortSignal: signal },
      );
      return answer.Body as Readable;
    } catch (error) {
      throw this.translate(error, `Cannot read ${key} from ${this.description}`);
    }
  }

  async head(key: string): Promise<StoredObjectInfo | null> {
    const { client, sdk } = await this.s3();
    try {
      const answer = await client.send(new sdk.s3.HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      return {
        key,
        size: answer.ContentLength ?? 0,
        lastModified: answer.LastModified ?? null,
        etag: unquote(answer.ETag),
        contentType: answer.ContentType ?? null,
        cacheControl: answer.CacheControl ?? null,
        metadata: answer.Metadata ?? {},
      };
    } catch (error) {
      const translated = this.translate(error, `Cannot look up ${key} in ${this.description}`);
      if (translated.kind === 'NotFound' && !isMissingBucket(error)) return null;
      throw translated;
    }
  }


  async delete(key: string): Promise<void> {
    const { client, sdk } = await this.s3();
    try {
      await client.send(new sdk.s3.DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
    } catch (error) {
      const translated = this.translate(error, `Cannot delete ${key} from ${this.description}`);
      if (translated.kind !== 'NotFound' || isMissingBucket(error)) throw translated;
    }
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<StorageListPage> {
    const { client, sdk } = await this.s3();
    try {
      const answer = await client.send(
        new sdk.s3.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          MaxKeys: Math.min(options.limit ?? 1000, 1000),
          ...(options.cursor ? { ContinuationToken: options.cursor } : {}),
        }),
      );
      return {
        objects: (answer.Contents ?? []).map((object) => ({
          key: (object.Key ?? '').slice(this.prefix.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified ?? null,
          etag: unquote(object.ETag),
        })),
        nextCursor: answer.IsTruncated && answer.NextContinuationToken ? answer.NextContinuationToken : null,
      };
    } catch (error) {
      throw this.translate(error, `Cannot list ${this.description}`);
    }
  }

  async copy(sourceKey: string, targetKey: string): Promise<StoredObjectInfo> {
    const source = this.fullKey(sourceKey);
    const { client, sdk } = await this.s3();
    try {
      await client.send(
        new sdk.s3.CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(targetKey),
          CopySource: `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'COPY',
          ...(this.config.serverSideEncryption ? { ServerSideEncryption: this.config.serverSideEncryption as ServerSideEncryption } : {}),
          ...(this.config.storageClass ? { StorageClass: this.config.storageClass as StorageClass } : {}),
        }),
      );
    } catch (error) {
      throw this.translate(error, `Cannot copy ${sourceKey} to ${targetKey} in ${this.description}`);
    }
    return headAfterWrite(this, targetKey);
  }

  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    const { client, sdk } = await this.s3();
    return sdk.getSignedUrl(client, new sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }), { expiresIn: expiresInSeconds });
  }

  async presignPut(key: string, expiresInSeconds: number): Promise<string> {
    const { client, sdk } = await this.s3();
    return sdk.getSignedUrl(client, new sdk.s3.PutObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }), { expiresIn: expiresInSeconds });
  }

  usage(prefix = ''): Promise<StorageUsage> {
    return usageByListing((cursor) => this.list(prefix, cursor ? { cursor } : {}));
  }

  async check(): Promise<void> {
    await this.list('', { limit: 1 });
  }

  /** The SDK's error as a typed storage error, keeping the server's own message. */
  private translate(error: unknown, context: string): StorageError {
    if (error instanceof StorageError) return error;
    if (isServiceException(error)) {
      const status = error.$metadata.httpStatusCode;
      if (isMissingBucket(error)) return new StorageError('InvalidConfig', `${context}: bucket ${this.bucket} does not exist`, { backendMessage: error.message, cause: error });
      const kind = ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken'].includes(error.name) ? 'AccessDenied' : kindForHttpStatus(status);
      return new StorageError(kind, context, { backendMessage: `${error.name}${error.message && error.message !== error.name ? `: ${error.message}` : ''}`, cause: error });
    }
    if (isNetworkError(error)) return new StorageError('Unavailable', `${context}: ${this.config.endpoint ?? 'S3'} is unreachable`, { backendMessage: (error as Error).message, cause: error });
    // A cancel is not a storage failure: it must never be retried or counted as an outage.
    if (isAbortError(error)) throw cancelledError();
    return new StorageError('Unavailable', context, { backendMessage: error instanceof Error ? error.message : String(error), cause: error });
  }
}

function isServiceException(error: unknown): error is S3ServiceException {
  return loadedSdk !== null && error instanceof loadedSdk.s3.S3ServiceException;
}

function isMissingBucket(error: unknown): boolean {
  return isServiceException(error) && error.name === 'NoSuchBucket';
}

/** The body passed through, its bytes counted (errors of the source reach the upload). */
function countBytes(body: Readable, add: (length: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      add(chunk.length);
      done(null, chunk);
    },
  });
  body.once('error', (error) => counter.destroy(error));
  return body.pipe(counter);
}

function unquote(etag: string | undefined): string | null {
  return etag ? etag.replace(/^"|"$/g, '') : null;
}
