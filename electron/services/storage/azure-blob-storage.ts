import type { Readable } from 'node:stream';
import { promises as fsp } from 'node:fs';
import type * as AzureSdk from '@azure/storage-blob';
import type { BlobItem, BlockBlobClient, ContainerClient, RestError } from '@azure/storage-blob';
import { isAbortError } from '../../../shared/errors';
import { cancelledError } from '../retry/retry-backoff';
import { StorageError, isNetworkError, kindForHttpStatus } from './storage-errors';
import { normalizePrefix, prefixedKey } from './object-key';
import { usageByListing } from './usage-by-listing';
import { headAfterWrite, type ByteRange, type PutOptions, type StorageBackend, type StorageListPage, type StorageUsage, type StoredObjectInfo } from './storage-backend';

const MiB = 1024 * 1024;

let sdkLoading: Promise<typeof AzureSdk> | null = null;
/** Set once loaded, for the synchronous error checks (only the SDK's own calls throw its errors). */
let loadedSdk: typeof AzureSdk | null = null;

/**
 * The Azure SDK costs ~11 MiB of memory: it loads on a first Azure operation, so a process that never
 * uses Azure (`encrypt`, `--version`, a local store) never pays for it.
 */
function loadAzureSdk(): Promise<typeof AzureSdk> {
  sdkLoading ??= import('@azure/storage-blob').then((sdk) => {
    loadedSdk = sdk;
    return sdk;
  });
  return sdkLoading;
}

export interface AzureBlobStorageConfig {
  account: string;
  container: string;
  prefix?: string;
  /** Custom endpoint (Azurite, sovereign clouds): the account URL, e.g. http://127.0.0.1:10000/devstoreaccount1. */
  endpoint?: string | null;
  /** One of the two: the account key (full access, can presign) or a SAS token. */
  accountKey?: string | null;
  sasToken?: string | null;
  blockSizeBytes?: number;
  concurrency?: number;
  /** Access tier for new blobs (Hot, Cool, Cold, Archive); null: the account's default. */
  accessTier?: 'Hot' | 'Cool' | 'Cold' | 'Archive' | null;
}

/** Azure Blob Storage (block blobs), with blocks uploaded in parallel. */
export class AzureBlobStorage implements StorageBackend {
  readonly kind = 'azure' as const;
  readonly description: string;
  private readonly accountUrl: string;
  private containerLoading: Promise<{ container: ContainerClient; sdk: typeof AzureSdk }> | null = null;
  private readonly prefix: string;
  private readonly blockSize: number;
  private readonly concurrency: number;
  private readonly canSign: boolean;

  constructor(private readonly config: AzureBlobStorageConfig) {
    if (!/^[a-z0-9]{3,24}$/.test(config.account)) throw new StorageError('InvalidConfig', `Invalid storage account name "${config.account}" (3-24 lower-case letters and digits)`);
    if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(config.container)) throw new StorageError('InvalidConfig', `Invalid container name "${config.container}"`);
    if (!config.accountKey && !config.sasToken) throw new StorageError('InvalidConfig', 'Azure Blob needs an account key or a SAS token');
    this.prefix = normalizePrefix(config.prefix ?? '');
    this.blockSize = config.blockSizeBytes ?? 8 * MiB;
    this.concurrency = config.concurrency ?? 4;
    const accountUrl = (config.endpoint ?? `https://${config.account}.blob.core.windows.net`).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/.test(accountUrl)) throw new StorageError('InvalidConfig', `Invalid endpoint "${accountUrl}"`);
    this.canSign = Boolean(config.accountKey);
    this.accountUrl = accountUrl;
    this.description = `azure://${config.account}/${config.container}${this.prefix ? `/${this.prefix.replace(/\/$/, '')}` : ''}${config.endpoint ? ` at ${accountUrl}` : ''}`;
  }

  /** The container's client, created on the first operation (loading the SDK if no backend has yet). */
  private azure(): Promise<{ container: ContainerClient; sdk: typeof AzureSdk }> {
    this.containerLoading ??= loadAzureSdk().then((sdk) => {
      const { account, accountKey, sasToken } = this.config;
      const service = accountKey
        ? new sdk.BlobServiceClient(this.accountUrl, new sdk.StorageSharedKeyCredential(account, accountKey), { retryOptions: { maxTries: 1 } })
        : new sdk.BlobServiceClient(`${this.accountUrl}?${(sasToken ?? '').replace(/^\?/, '')}`, undefined, { retryOptions: { maxTries: 1 } });
      return { container: service.getContainerClient(this.config.container), sdk };
    });
    return this.containerLoading;
  }

  private async blob(key: string): Promise<BlockBlobClient> {
    return (await this.azure()).container.getBlockBlobClient(prefixedKey(this.prefix, key));
  }

  private uploadOptions(options: PutOptions): {
    blobHTTPHeaders: { blobContentType?: string; blobCacheControl?: string };
    metadata?: Record<string, string>;
    tier?: string;
    abortSignal?: AbortSignal;
    onProgress?: (progress: { loadedBytes: number }) => void;
  } {
    return {
      blobHTTPHeaders: {
        ...(options.contentType ? { blobContentType: options.contentType } : {}),
        ...(options.cacheControl ? { blobCacheControl: options.cacheControl } : {}),
      },
      // Azure metadata names must be C# identifiers: '-' is not allowed, so it travels as '_'.
      ...(options.metadata ? { metadata: Object.fromEntries(Object.entries(options.metadata).map(([name, value]) => [name.toLowerCase().replace(/-/g, '_'), value])) } : {}),
      ...(this.config.accessTier ? { tier: this.config.accessTier } : {}),
      ...(options.signal ? { abortSignal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: (progress: { loadedBytes: number }) => options.onProgress?.(progress.loadedBytes) } : {}),
    };
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<StoredObjectInfo> {
    const blob = await this.blob(key);
    try {
      await blob.uploadStream(body, this.blockSize, this.concurrency, this.uploadOptions(options));
    } catch (error) {
      body.destroy();
      throw this.translate(error, `Upload of ${key} to ${this.description} failed`);
    }
    return headAfterWrite(this, key);
  }

  async putFile(key: string, filePath: string, options: PutOptions = {}): Promise<StoredObjectInfo> {
    await fsp.access(filePath);
    const blob = await this.blob(key);
    try {
      await blob.uploadFile(filePath, { ...this.uploadOptions(options), blockSize: this.blockSize, concurrency: this.concurrency });
    } catch (error) {
      throw this.translate(error, `Upload of ${key} to ${this.description} failed`);
    }
    return headAfterWrite(this, key);
  }

  async get(key: string, options: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<Readable> {
    const blob = await this.blob(key);
    try {
      const range = options.range;
      const answer = await blob.download(range ? range.start : 0, range ? range.end - range.start + 1 : undefined, options.signal ? { abortSignal: options.signal } : {});
      if (!answer.readableStreamBody) throw new StorageError('Unavailable', `${this.description} returned no body for ${key}`);
      return answer.readableStreamBody as Readable;
    } catch (error) {
      throw this.translate(error, `Cannot read ${key} from ${this.description}`);
    }
  }

  async head(key: string): Promise<StoredObjectInfo | null> {
    const blob = await this.blob(key);
    try {
      const properties = await blob.getProperties();
      return {
        key,
        size: properties.contentLength ?? 0,
        lastModified: properties.lastModified ?? null,
        etag: properties.etag ? properties.etag.replace(/^"|"$/g, '') : null,
        contentType: properties.contentType ?? null,
        cacheControl: properties.cacheControl ?? null,
        metadata: Object.fromEntries(Object.entries(properties.metadata ?? {}).map(([name, value]) => [name.replace(/_/g, '-'), value])),
      };
    } catch (error) {
      const translated = this.translate(error, `Cannot look up ${key} in ${this.description}`);
      if (translated.kind === 'NotFound' && !isMissingContainer(error)) return null;
      throw translated;
    }
  }


  async delete(key: string): Promise<void> {
    const blob = await this.blob(key);
    try {
      await blob.deleteIfExists();
    } catch (error) {
      throw this.translate(error, `Cannot delete ${key} from ${this.description}`);
    }
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<StorageListPage> {
    const { container } = await this.azure();
    try {
      const pages = container
        .listBlobsFlat({ prefix: this.prefix + prefix })
        .byPage({ maxPageSize: Math.min(options.limit ?? 1000, 5000), ...(options.cursor ? { continuationToken: options.cursor } : {}) });
      const { value } = await pages.next();
      if (!value) return { objects: [], nextCursor: null };
      return {
        objects: value.segment.blobItems.map((item: BlobItem) => ({
          key: item.name.slice(this.prefix.length),
          size: item.properties.contentLength ?? 0,
          lastModified: item.properties.lastModified ?? null,
          etag: item.properties.etag ? item.properties.etag.replace(/^"|"$/g, '') : null,
        })),
        nextCursor: value.continuationToken ? value.continuationToken : null,
      };
    } catch (error) {
      throw this.translate(error, `Cannot list ${this.description}`);
    }
  }

  async copy(sourceKey: string, targetKey: string): Promise<StoredObjectInfo> {
    const source = await this.blob(sourceKey);
    const target = await this.blob(targetKey);
    try {
      // With a SAS token the source URL carries it; with an account key the same account authorizes the copy.
      const poller = await target.beginCopyFromURL(source.url, { intervalInMs: 200 });
      await poller.pollUntilDone();
    } catch (error) {
      throw this.translate(error, `Cannot copy ${sourceKey} to ${targetKey} in ${this.description}`);
    }
    return headAfterWrite(this, targetKey);
  }

  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    return this.sign(key, 'r', expiresInSeconds);
  }

  async presignPut(key: string, expiresInSeconds: number): Promise<string> {
    return this.sign(key, 'cw', expiresInSeconds);
  }

  private async sign(key: string, permissions: string, expiresInSeconds: number): Promise<string> {
    if (!this.canSign) throw new StorageError('InvalidConfig', `${this.description} uses a SAS token: only an account key can sign URLs`);
    const { sdk } = await this.azure();
    const blob = await this.blob(key);
    return blob.generateSasUrl({ permissions: sdk.BlobSASPermissions.parse(permissions), expiresOn: new Date(Date.now() + expiresInSeconds * 1000) });
  }

  usage(prefix = ''): Promise<StorageUsage> {
    return usageByListing((cursor) => this.list(prefix, cursor ? { cursor } : {}));
  }

  async check(): Promise<void> {
    await this.list('', { limit: 1 });
  }

  private translate(error: unknown, context: string): StorageError {
    if (error instanceof StorageError) return error;
    if (isRestError(error) && error.statusCode !== undefined) {
      const backendMessage = `${error.code ?? error.statusCode}: ${(error.message.split('\n')[0] ?? '').trim()}`;
      if (isMissingContainer(error)) return new StorageError('InvalidConfig', `${context}: container ${this.config.container} does not exist`, { backendMessage, cause: error });
      return new StorageError(kindForHttpStatus(error.statusCode), context, { backendMessage, cause: error });
    }
    if (isNetworkError(error) || (isRestError(error) && error.code === 'REQUEST_SEND_ERROR')) {
      return new StorageError('Unavailable', `${context}: ${this.config.endpoint ?? 'Azure'} is unreachable`, { backendMessage: (error as Error).message, cause: error });
    }
    // A cancel is not a storage failure: it must never be retried or counted as an outage.
    if (isAbortError(error)) throw cancelledError();
    return new StorageError('Unavailable', context, { backendMessage: error instanceof Error ? error.message : String(error), cause: error });
  }
}

function isRestError(error: unknown): error is RestError {
  return loadedSdk !== null && error instanceof loadedSdk.RestError;
}

function isMissingContainer(error: unknown): boolean {
  return isRestError(error) && error.code === 'ContainerNotFound';
}
