import { promises as fsp } from 'node:fs';
import type { ConsistencyLevel } from '../../../shared/domain/replication';
import type { FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { DepotError } from '../../../shared/errors';
import {
  packageVersionMetadataSchema,
  packageVersionsListingSchema,
  searchResultSchema,
  signatureSummarySchema,
  type PackageVersionMetadata,
  type SignatureSummary,
  type PackageVersionsListing,
  type PublishMetadata,
  type PublishResult,
  type SearchResult,
} from '../../../shared/domain/registry';
import { AttemptTimer } from './attempt-timer';
import { readPackageIdentity } from './package-identity';
import { assertAnswerFor } from './answer-identity';
import { errorFromResponse, isRetryableStatus } from './registry-errors';
import { downloadResumable, type DownloadOptions, type DownloadResult } from './resumable-download';
import { backoffDelayMs, cancelledError, sleep, throwIfCancelled } from '../retry/retry-backoff';
import { retryAfterNetworkError, type TransferContext } from './transfer-context';

export type { DownloadOptions, DownloadResult } from './resumable-download';

export interface RegistryClientOptions {
  /** The registry's origin (`https://depot.example.com`); a trailing `/api/v1` is accepted too. */
  baseUrl: string;
  apiKey?: string | null;
  /** Longest wait for an answer, and longest silence while a body streams (not a total deadline). */
  timeoutMs?: number;
  /** Extra attempts after the first, on network errors and 5xx; never on 4xx. */
  retries?: number;
  fetchImpl?: typeof fetch;
  /** Backoff ceiling of the first retry (it doubles per retry, up to `retryMaxDelayMs`). */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Tuning of the download path; the defaults are what the benchmarks chose. Tests force each path. */
  downloads?: { rawHttp?: boolean; workerSinkFromBytes?: number };
}

export interface PublishOptions {
  /** Default: the package's own manifest. */
  name?: string;
  version?: string;
  metadata?: PublishMetadata;
  /**
   * The file is a package its publisher encrypted (our AES format or age): the registry cannot read it,
   * so `name` and `version` are required and the plaintext's dependencies travel alongside.
   */
  encrypted?: { dependencies: Record<string, string> };
  /** `X-Torsh-Consistency`: the replication level this publish must reach before it is visible. */
  consistency?: ConsistencyLevel;
  signal?: AbortSignal;
  onProgress?: (sent: number, total: number) => void;
}

export const registryHealthSchema = z.object({ status: z.string(), version: z.string() });
export type RegistryHealth = z.infer<typeof registryHealthSchema>;

const publishBodySchema = z.object({ name: z.string(), version: z.string(), digest: z.string(), size: z.number().int() });

const uploadChunkBytes = 256 * 1024;
// After the last byte the server hashes and checks the whole package before it answers:
// allow for that at a pessimistic 20 MiB/s on top of the usual timeout.
const serverVerifyBytesPerMs = (20 * 1024 * 1024) / 1000;

/** Client of the registry HTTP API v1 (what `torsh-depot serve` exposes). Streams packages both ways. */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly apiKey: string | null;
  private readonly context: TransferContext;

  constructor(options: RegistryClientOptions) {
    this.baseUrl = normalizeRegistryUrl(options.baseUrl);
    this.apiKey = options.apiKey ?? null;
    const baseMs = options.retryBaseDelayMs ?? 500;
    const maxMs = options.retryMaxDelayMs ?? 15_000;
    const apiKey = this.apiKey;
    this.context = {
      fetchImpl: options.fetchImpl ?? globalThis.fetch,
      origin: new URL(this.baseUrl).origin,
      timeoutMs: options.timeoutMs ?? 30_000,
      retries: Math.max(0, options.retries ?? 3),
      // An injected fetch (tests, proxies) must see every request, so it turns the socket reader off.
      rawHttp: options.downloads?.rawHttp ?? options.fetchImpl === undefined,
      workerSinkFromBytes: options.downloads?.workerSinkFromBytes ?? 32 * 1024 * 1024,
      headers: (extra = {}) => ({ ...(apiKey ? { Authorization: `Bearer ${apiKey}` } : {}), ...extra }),
      backoff: (attempt, signal) => sleep(backoffDelayMs(attempt, { baseMs, maxMs }), signal),
    };
  }

  health(options: { signal?: AbortSignal } = {}): Promise<RegistryHealth> {
    return this.requestJson('GET', '/health', registryHealthSchema, 'Health check', options.signal);
  }

  /** The version's metadata; an answer about another package or version is refused (assertAnswerFor). */
  async getVersion(name: string, version: string, options: { signal?: AbortSignal } = {}): Promise<PackageVersionMetadata> {
    const metadata = await this.requestJson('GET', `/packages/${namePath(name)}/${encodeURIComponent(version)}`, packageVersionMetadataSchema, `${name}@${version}`, options.signal);
    return assertAnswerFor(metadata, { name, version });
  }

  listVersions(name: string, options: { signal?: AbortSignal } = {}): Promise<PackageVersionsListing> {
    return this.requestJson('GET', `/packages/${namePath(name)}`, packageVersionsListingSchema, name, options.signal);
  }

  /** Newest non-yanked version matching a semver range. */
  async resolve(name: string, range: string, options: { signal?: AbortSignal } = {}): Promise<PackageVersionMetadata> {
    const query = new URLSearchParams({ range });
    const metadata = await this.requestJson('GET', `/resolve/${namePath(name)}?${query.toString()}`, packageVersionMetadataSchema, `${name}@${range}`, options.signal);
    return assertAnswerFor(metadata, { name, range });
  }

  search(query: string, page = 1, perPage = 20, options: { signal?: AbortSignal } = {}): Promise<SearchResult> {
    const params = new URLSearchParams({ q: query, page: String(page), per_page: String(perPage) });
    return this.requestJson('GET', `/search?${params.toString()}`, searchResultSchema, 'Search', options.signal);
  }

  yank(name: string, version: string, options: { signal?: AbortSignal } = {}): Promise<PackageVersionMetadata> {
    return this.requestJson('POST', `/packages/${namePath(name)}/${encodeURIComponent(version)}/yank`, packageVersionMetadataSchema, `${name}@${version}`, options.signal);
  }

  unyank(name: string, version: string, options: { signal?: AbortSignal } = {}): Promise<PackageVersionMetadata> {
    return this.requestJson('POST', `/packages/${namePath(name)}/${encodeURIComponent(version)}/unyank`, packageVersionMetadataSchema, `${name}@${version}`, options.signal);
  }

  /**
   * Streams a package file to the registry. Retried only when no answer came back at all (refused,
   * reset): re-sending the same bytes is safe because re-publishing identical bytes is a no-op.
   */
  async publish(filePath: string, options: PublishOptions = {}): Promise<PublishResult> {
    const { signal, onProgress } = options;
    throwIfCancelled(signal);
    const size = await regularFileSize(filePath);
    if (options.encrypted && (options.name === undefined || options.version === undefined)) {
      throw new DepotError('VALIDATION_FAILED', 'An encrypted package needs its name and version given: the registry cannot read them.', { reason: 'identity-required' });
    }
    const identity = options.name !== undefined && options.version !== undefined ? { name: options.name, version: options.version } : await readPackageIdentity(filePath);
    throwIfCancelled(signal);
    const what = `Publishing ${identity.name}@${identity.version}`;
    const url = this.url(`/packages/${namePath(identity.name)}/${encodeURIComponent(identity.version)}`);
    const extra: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size), Accept: 'application/json' };
    if (options.metadata) extra['X-Torsh-Metadata'] = asciiJson(options.metadata);
    if (options.encrypted) extra['X-Torsh-Encrypted'] = asciiJson(options.encrypted);
    if (options.consistency) extra['X-Torsh-Consistency'] = options.consistency;

    for (let attempt = 0; ; attempt += 1) {
      throwIfCancelled(signal);
      const timer = new AttemptTimer(signal, this.context.timeoutMs);
      const body = await FileBody.open(filePath, (sent) => {
        timer.touch(sent < size ? this.context.timeoutMs : this.context.timeoutMs + size / serverVerifyBytesPerMs);
        onProgress?.(sent, size);
      });
      try {
        let response: Response;
        try {
          response = await this.context.fetchImpl(url, { method: 'PUT', headers: this.context.headers(extra), body: body.stream, duplex: 'half', signal: timer.signal } as RequestInit);
        } catch (error) {
          await retryAfterNetworkError(this.context, attempt, error, timer, signal);
          continue;
        }
        if (!response.ok) throw await errorFromResponse(response, what);
        const published = await readJson(response, publishBodySchema, what);
        return { ...published, created: response.status === 201 };
      } catch (error) {
        if (signal?.aborted && !(error instanceof DepotError && error.code !== 'CANCELLED')) throw cancelledError();
        throw error;
      } finally {
        timer.dispose();
        await body.close();
      }
    }
  }

  /** A version's minisign signature by `keyId` (or its best one); null when there is none. */
  async getSignature(name: string, version: string, keyId?: string, options: { signal?: AbortSignal } = {}): Promise<string | null> {
    const query = keyId === undefined ? '' : `?${new URLSearchParams({ key_id: keyId }).toString()}`;
    return this.requestText('GET', `${versionPath(name, version)}/signature${query}`, null, `Signature of ${name}@${version}`, options.signal);
  }

  /** Uploads a minisign signature for a published version (needs a key that may publish it). */
  async putSignature(name: string, version: string, signature: string, options: { signal?: AbortSignal } = {}): Promise<SignatureSummary> {
    const what = `Signing ${name}@${version}`;
    const text = await this.requestText('PUT', `${versionPath(name, version)}/signature`, signature, what, options.signal);
    return parseJson(text ?? '', signatureSummarySchema, what);
  }

  /** Downloads one version to `destPath` (see `downloadResumable`). */
  download(name: string, version: string, destPath: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    const { url } = this.downloadRequest(name, version);
    return downloadResumable(this.context, url, destPath, `Downloading ${name}@${version}`, options);
  }

  /** Where a version's bytes are and the headers to ask with (the mirrors' downloader falls back to the registry with it). */
  downloadRequest(name: string, version: string): { url: string; headers: Record<string, string> } {
    return { url: this.url(`/packages/${namePath(name)}/${encodeURIComponent(version)}/download`), headers: this.context.headers() };
  }

  private url(pathAndQuery: string): string {
    return `${this.baseUrl}/api/v1${pathAndQuery}`;
  }

  /** A small text exchange; a 404 on GET is null. Retried like JSON requests (PUTs of a signature are idempotent). */
  private async requestText(method: 'GET' | 'PUT', pathAndQuery: string, body: string | null, what: string, signal: AbortSignal | undefined): Promise<string | null> {
    const url = this.url(pathAndQuery);
    const headers: Record<string, string> = body === null ? { Accept: 'text/plain, application/json' } : { Accept: 'application/json', 'Content-Type': 'text/plain; charset=utf-8' };
    for (let attempt = 0; ; attempt += 1) {
      throwIfCancelled(signal);
      const timer = new AttemptTimer(signal, this.context.timeoutMs);
      try {
        try {
          const response = await this.context.fetchImpl(url, { method, headers: this.context.headers(headers), ...(body === null ? {} : { body }), signal: timer.signal });
          if (isRetryableStatus(response.status) && attempt < this.context.retries) {
            await response.body?.cancel();
            await this.context.backoff(attempt, signal);
            continue;
          }
          if (method === 'GET' && response.status === 404) {
            await response.body?.cancel();
            return null;
          }
          if (!response.ok) throw await errorFromResponse(response, what);
          return await response.text();
        } catch (error) {
          if (error instanceof DepotError) throw error;
          await retryAfterNetworkError(this.context, attempt, error, timer, signal);
          continue;
        }
      } catch (error) {
        if (signal?.aborted && !(error instanceof DepotError && error.code !== 'CANCELLED')) throw cancelledError();
        throw error;
      } finally {
        timer.dispose();
      }
    }
  }

  /**
   * A JSON call of the API with a JSON body (access control: users, roles, keys…). Never retried
   * once sent: creating a user or a key twice is not harmless.
   */
  sendJson<Schema extends z.ZodType>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', pathAndQuery: string, schema: Schema, what: string, options: { body?: unknown; signal?: AbortSignal } = {}): Promise<z.infer<Schema>> {
    return this.requestJson(method, pathAndQuery, schema, what, options.signal, options.body === undefined ? undefined : JSON.stringify(options.body), method === 'GET');
  }

  private async requestJson<Schema extends z.ZodType>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    pathAndQuery: string,
    schema: Schema,
    what: string,
    signal: AbortSignal | undefined,
    body?: string,
    retry = true,
  ): Promise<z.infer<Schema>> {
    const url = this.url(pathAndQuery);
    const retries = retry ? this.context.retries : 0;
    const headers = this.context.headers({ Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) });
    for (let attempt = 0; ; attempt += 1) {
      throwIfCancelled(signal);
      const timer = new AttemptTimer(signal, this.context.timeoutMs);
      try {
        let response: Response;
        let text: string;
        try {
          response = await this.context.fetchImpl(url, { method, headers, ...(body === undefined ? {} : { body }), signal: timer.signal });
          if (isRetryableStatus(response.status) && attempt < retries) {
            await response.body?.cancel();
            await this.context.backoff(attempt, signal);
            continue;
          }
          if (!response.ok) throw await errorFromResponse(response, what);
          text = await response.text();
        } catch (error) {
          if (error instanceof DepotError) throw error;
          await retryAfterNetworkError(retry ? this.context : { ...this.context, retries: 0 }, attempt, error, timer, signal);
          continue;
        }
        // 204 No Content (a revocation): nothing to parse.
        return parseJson(text === '' && response.status === 204 ? 'null' : text, schema, what);
      } catch (error) {
        if (signal?.aborted && !(error instanceof DepotError && error.code !== 'CANCELLED')) throw cancelledError();
        throw error;
      } finally {
        timer.dispose();
      }
    }
  }
}

/**
 * The canonical form of a registry address: origin plus any path prefix, no trailing slash and
 * no `/api/v1` (so `http://h:1/`, `http://h:1` and `http://h:1/api/v1` name the same registry).
 */
export function normalizeRegistryUrl(baseUrl: string): string {
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new DepotError('VALIDATION_FAILED', `"${baseUrl.slice(0, 200)}" is not a URL.`, { reason: 'bad-registry-url' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DepotError('VALIDATION_FAILED', `The registry URL must use http or https, got ${parsed.protocol}`, { reason: 'bad-registry-url' });
  }
  if (parsed.username || parsed.password) {
    throw new DepotError('VALIDATION_FAILED', 'Put the API key in the key setting, not in the registry URL.', { reason: 'bad-registry-url' });
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}`;
}

function versionPath(name: string, version: string): string {
  return `/packages/${namePath(name)}/${encodeURIComponent(version)}`;
}

/** Scoped names take two path segments (`vision/quokka`); each is encoded on its own. */
function namePath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

/** Header values must be Latin-1: escape everything else, JSON.parse on the server undoes it. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

async function readJson<Schema extends z.ZodType>(response: Response, schema: Schema, what: string): Promise<z.infer<Schema>> {
  return parseJson(await response.text(), schema, what);
}

function parseJson<Schema extends z.ZodType>(text: string, schema: Schema, what: string): z.infer<Schema> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new DepotError('UNAVAILABLE', `${what}: the registry answered with something that is not JSON (is the URL right?).`, { reason: 'bad-response' });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new DepotError('UNAVAILABLE', `${what}: the registry's answer has an unexpected shape (is it a Torsh Depot registry?).`, { reason: 'bad-response' });
  return parsed.data;
}

async function regularFileSize(filePath: string): Promise<number> {
  try {
    const stats = await fsp.stat(filePath);
    if (!stats.isFile()) throw new DepotError('VALIDATION_FAILED', `${filePath} is not a file.`, { reason: 'not-a-file' });
    return stats.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DepotError('VALIDATION_FAILED', `${filePath} does not exist.`, { reason: 'source-not-found' });
    throw error;
  }
}

/** A request body read from the file as fetch pulls it: never more than one chunk in memory. */
class FileBody {
  readonly stream: ReadableStream<Uint8Array>;
  private position = 0;
  private finished = false;
  private reading: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly handle: FileHandle,
    private readonly onSent: (sent: number) => void,
  ) {
    this.stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (this.finished) {
          controller.close();
          return;
        }
        const buffer = Buffer.allocUnsafe(uploadChunkBytes);
        const read = this.handle.read(buffer, 0, buffer.length, this.position);
        this.reading = read.catch(() => undefined);
        const { bytesRead } = await read;
        if (bytesRead === 0) {
          this.finished = true;
          controller.close();
          return;
        }
        this.position += bytesRead;
        controller.enqueue(new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead));
        this.onSent(this.position);
      },
      cancel: () => {
        this.finished = true;
      },
    });
  }

  static async open(filePath: string, onSent: (sent: number) => void): Promise<FileBody> {
    return new FileBody(await fsp.open(filePath, 'r'), onSent);
  }

  async close(): Promise<void> {
    this.finished = true;
    await this.reading;
    await this.handle.close().catch(() => undefined);
  }
}
