import type { Database } from 'better-sqlite3';
import { DepotError, toErrorEnvelope, type ErrorEnvelope } from '../../../shared/errors';
import {
  storageBackendConfigSchema,
  storageSecretNames,
  type StorageBackendConfig,
  type StorageBackendConfigInput,
  type StorageBackendView,
  type StorageCredentials,
  type StorageSecretName,
  type StorageStats,
} from '../../../shared/domain/storage';
import type { SettingsService } from '../settings/settings-service';
import type { SecretStore } from '../secrets/secret-store';
import type { Logger } from '../logger';
import { backoffDelayMs, sleep } from '../retry/retry-backoff';
import { InstrumentedStorage, defaultRetryPolicy, type RetryPolicy } from './instrumented-storage';
import { MultipartJournal } from './multipart-journal';
import { StorageStatsRepository } from './storage-stats';
import { createStorageBackend, type StorageLocation } from './storage-factory';
import { isTransientStorageError, StorageError } from './storage-errors';
import type { StorageBackend, StorageListPage, StorageUsage, StoredObjectInfo } from './storage-backend';

/** The data folder's own store (where the registry's blobs live by default). */
export const builtInBackendId = 'local';

export interface CopyTargetResult {
  backendId: string;
  ok: boolean;
  size: number | null;
  attempts: number;
  error: ErrorEnvelope | null;
}

export interface StorageManagerOptions {
  db: Database;
  settings: SettingsService;
  secrets: SecretStore;
  logger: Logger;
  /** The data folder's store; the registry's default blob store. */
  builtIn: StorageBackend;
  retryPolicy?: RetryPolicy;
}

function secretKey(backendId: string, name: StorageSecretName): string {
  return `storage.${backendId}.${name}`;
}

/**
 * The configured storage backends: builds them from settings + secret store, retries transient
 * errors, keeps per-backend stats in SQLite, and copies objects to several backends at once.
 */
export class StorageManager {
  readonly journal: MultipartJournal;
  private readonly stats: StorageStatsRepository;
  private readonly built = new Map<string, { signature: string; backend: InstrumentedStorage }>();
  private readonly builtIn: InstrumentedStorage;
  private blobStoreId = builtInBackendId;

  constructor(private readonly options: StorageManagerOptions) {
    this.journal = new MultipartJournal(options.db);
    this.stats = new StorageStatsRepository(options.db);
    this.builtIn = new InstrumentedStorage(builtInBackendId, options.builtIn, this.stats, this.retryPolicy);
  }

  private get retryPolicy(): RetryPolicy {
    return this.options.retryPolicy ?? defaultRetryPolicy;
  }

  private configs(): StorageBackendConfig[] {
    return this.options.settings.get().storage.backends;
  }

  private credentialsOf(config: StorageBackendConfig): StorageCredentials {
    const credentials: StorageCredentials = {};
    for (const name of storageSecretNames[config.kind]) {
      const value = this.options.secrets.get(secretKey(config.id, name));
      if (value !== undefined) credentials[name] = value;
    }
    return credentials;
  }

  /** A backend by id, built (once per configuration) with retries and stats around it. */
  backend(id: string): InstrumentedStorage {
    if (id === builtInBackendId) return this.builtIn;
    const config = this.configs().find((entry) => entry.id === id);
    if (!config) throw new DepotError('NOT_FOUND', `No storage backend "${id}".`);
    const credentials = this.credentialsOf(config);
    const signature = JSON.stringify([config, Object.keys(credentials).sort(), Object.values(credentials).map((value) => value.length)]);
    const cached = this.built.get(id);
    if (cached && cached.signature === signature) return cached.backend;
    const backend = new InstrumentedStorage(id, createStorageBackend({ config, credentials }, { journal: this.journal }), this.stats, this.retryPolicy);
    this.built.set(id, { signature, backend });
    return backend;
  }

  /** A backend from a location given outside settings (`serve --blob-store`), with stats under `id`. */
  open(location: StorageLocation, id: string): InstrumentedStorage {
    return new InstrumentedStorage(id, createStorageBackend(location, { journal: this.journal }), this.stats, this.retryPolicy);
  }

  /** Records which backend holds the registry's blobs (for the Storage screen). */
  markBlobStore(id: string): void {
    this.blobStoreId = id;
  }

  list(): StorageBackendView[] {
    const views: StorageBackendView[] = [
      {
        id: builtInBackendId,
        label: 'Data folder',
        kind: this.builtIn.kind,
        builtIn: true,
        description: this.builtIn.description,
        config: null,
        secretsSet: [],
        isBlobStore: this.blobStoreId === builtInBackendId,
        canPresign: false,
      },
    ];
    for (const config of this.configs()) {
      const secretsSet = storageSecretNames[config.kind].filter((name) => this.options.secrets.get(secretKey(config.id, name)) !== undefined);
      let description: string;
      let canPresign = false;
      try {
        const backend = this.backend(config.id);
        description = backend.description;
        canPresign = backend.presignGet !== undefined && (config.kind !== 'azure' || secretsSet.includes('accountKey'));
      } catch (error) {
        description = `not usable: ${(error as Error).message}`;
      }
      views.push({ id: config.id, label: config.label, kind: config.kind, builtIn: false, description, config, secretsSet, isBlobStore: this.blobStoreId === config.id, canPresign });
    }
    return views;
  }

  /**
   * Adds or changes a backend. Secrets go to the secret store only: a string sets one, null
   * forgets it, an absent name keeps it.
   */
  async save(input: StorageBackendConfigInput, secrets: Partial<Record<StorageSecretName, string | null>> = {}): Promise<StorageBackendView[]> {
    if (input.id === builtInBackendId) throw new DepotError('VALIDATION_FAILED', 'The data folder store is built in and cannot be changed here.');
    const parsed = storageBackendConfigSchema.safeParse(input);
    if (!parsed.success) throw new DepotError('VALIDATION_FAILED', `Invalid storage backend: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    const config = parsed.data;
    const allowed = new Set<string>(storageSecretNames[config.kind]);
    for (const name of Object.keys(secrets)) {
      if (!allowed.has(name)) throw new DepotError('VALIDATION_FAILED', `A ${config.kind} backend has no secret "${name}".`);
    }
    // Prove the configuration builds before anything is stored.
    createStorageBackend({ config, credentials: { ...this.credentialsOf(config), ...Object.fromEntries(Object.entries(secrets).filter(([, value]) => typeof value === 'string')) } });
    for (const [name, value] of Object.entries(secrets) as Array<[StorageSecretName, string | null | undefined]>) {
      if (value === null) await this.options.secrets.delete(secretKey(config.id, name));
      else if (value !== undefined) await this.options.secrets.set(secretKey(config.id, name), value);
    }
    const current = this.configs();
    const next = current.some((entry) => entry.id === config.id) ? current.map((entry) => (entry.id === config.id ? config : entry)) : [...current, config];
    await this.options.settings.update({ storage: { ...this.options.settings.get().storage, backends: next } });
    return this.list();
  }

  async remove(id: string): Promise<StorageBackendView[]> {
    const config = this.configs().find((entry) => entry.id === id);
    if (!config) throw new DepotError('NOT_FOUND', `No storage backend "${id}".`);
    if (this.blobStoreId === id || this.options.settings.get().storage.blobStoreBackendId === id) {
      throw new DepotError('CONFLICT', `"${config.label}" holds the registry's blobs; choose another blob store first.`);
    }
    const storage = this.options.settings.get().storage;
    await this.options.settings.update({ storage: { ...storage, backends: storage.backends.filter((entry) => entry.id !== id) } });
    for (const name of storageSecretNames[config.kind]) await this.options.secrets.delete(secretKey(id, name));
    this.built.delete(id);
    return this.list();
  }

  async test(id: string): Promise<{ ok: boolean; message: string; latencyMs: number }> {
    const started = performance.now();
    try {
      await this.backend(id).check();
      return { ok: true, message: 'Reachable; the credentials are accepted.', latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error), latencyMs: Math.round(performance.now() - started) };
    }
  }

  usage(id: string, prefix = ''): Promise<StorageUsage> {
    return this.backend(id).usage(prefix);
  }

  browse(id: string, prefix: string, cursor: string | null, limit: number): Promise<StorageListPage> {
    return this.backend(id).list(prefix, { limit, ...(cursor ? { cursor } : {}) });
  }

  head(id: string, key: string): Promise<StoredObjectInfo | null> {
    return this.backend(id).head(key);
  }

  statistics(): StorageStats[] {
    return this.stats.all();
  }

  /**
   * Copies one object to several backends at once. Each target gets its own read of the source and
   * its own retries; the result lists every target, and a failed one is never reported as copied.
   */
  async copyToBackends(
    sourceId: string,
    key: string,
    targetIds: string[],
    options: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
  ): Promise<CopyTargetResult[]> {
    const unique = [...new Set(targetIds)].filter((id) => id !== sourceId);
    if (unique.length === 0) throw new DepotError('VALIDATION_FAILED', 'Choose at least one other backend to copy to.');
    const source = this.backend(sourceId);
    const info = await source.head(key);
    if (!info) throw new StorageError('NotFound', `No object ${key} in ${source.description}`);
    const sent = new Map<string, number>();
    const report = (): void => {
      const total = info.size * unique.length;
      options.onProgress?.(total === 0 ? 1 : Math.min(1, [...sent.values()].reduce((sum, bytes) => sum + bytes, 0) / total));
    };
    const copyOne = async (targetId: string): Promise<CopyTargetResult> => {
      let attempts = 0;
      for (;;) {
        attempts += 1;
        try {
          const target = this.backend(targetId);
          const body = await source.get(key, options.signal ? { signal: options.signal } : {});
          const written = await target.put(key, body, {
            ...(info.contentType ? { contentType: info.contentType } : {}),
            ...(info.cacheControl ? { cacheControl: info.cacheControl } : {}),
            ...(info.metadata && Object.keys(info.metadata).length > 0 ? { metadata: info.metadata } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            onProgress: (bytes) => {
              sent.set(targetId, bytes);
              report();
            },
          });
          if (written.size !== info.size) throw new StorageError('Conflict', `${target.description} holds ${written.size} bytes after the copy, expected ${info.size}`);
          sent.set(targetId, info.size);
          report();
          return { backendId: targetId, ok: true, size: written.size, attempts, error: null };
        } catch (error) {
          if (attempts <= this.retryPolicy.retries && isTransientStorageError(error) && !options.signal?.aborted) {
            await sleep(backoffDelayMs(attempts, this.retryPolicy), options.signal);
            continue;
          }
          this.options.logger.warn(`storage copy of ${key} to ${targetId} failed: ${error instanceof Error ? error.message : String(error)}`);
          return { backendId: targetId, ok: false, size: null, attempts, error: toErrorEnvelope(error) };
        }
      }
    };
    const results = await Promise.all(unique.map((id) => copyOne(id)));
    options.signal?.throwIfAborted();
    return results;
  }
}
