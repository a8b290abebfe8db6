import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Database } from 'better-sqlite3';
import semver from 'semver';
import { DepotError, isAbortError } from '../../../shared/errors';
import type { PackageVersionMetadata } from '../../../shared/domain/registry';
import { isValidPackageName } from '../../../shared/packages/manifest';
import { fsyncDirectory } from '../fs/atomic-write';
import { silentLogger, type Logger } from '../logger';
import { normalizeRegistryUrl, type RegistryClient } from '../registry-client/registry-client';
import { partialSuffix } from '../registry-client/resumable-download';
import { cancelledError, throwIfCancelled } from '../retry/retry-backoff';
import { requireDigest } from '../registry-client/sha256-digest';
import { CacheIndex, type CacheIndexRow } from './cache-index';
import { downloadViaMirrorSet, type MirrorSetProvider } from '../mirrors/download/mirror-pull';
import type { SigningPublicKey } from '../signing/ed25519-keys';
import { enforceSignaturePolicy, evaluateSignatures, type SignaturePolicy } from '../signing/signature-policy';

export interface PackageCacheOptions {
  db: Database;
  /** The cache folder: `sha256/<hex>` holds the files, `partial/` the downloads in progress. */
  dir: string;
  maxBytes: () => number;
  /** Offline: answer from the cache only, never open a connection. */
  offline: () => boolean;
  clientFor: (registryUrl: string) => RegistryClient;
  /** Milliseconds since the epoch; tests inject a clock to order accesses. */
  now?: () => number;
  logger?: Logger;
  /** Signature policy per registry and the trusted keys; without it every registry is `off`. */
  signatures?: { policy: (registryUrl: string) => SignaturePolicy; trustedKeys: () => SigningPublicKey[] };
  /** The mirror set: when it has enabled mirrors, downloads go through them (the registry last). */
  mirrors?: () => MirrorSetProvider | null;
}

export interface CacheFetchOptions {
  signal?: AbortSignal;
  onProgress?: (received: number, total: number | null) => void;
}

export interface CacheFetchResult {
  path: string;
  digest: string;
  size: number;
  name: string;
  version: string;
  fromCache: boolean;
}

export interface CacheEntry extends CacheIndexRow {
  path: string;
}

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
  maxBytes: number;
}

export interface CacheCleanResult {
  removedEntries: number;
  freedBytes: number;
}

export interface CacheReconcileResult {
  droppedRows: number;
  deletedFiles: number;
}

interface Downloaded {
  path: string;
  size: number;
}

// A file with no row may belong to another process between its rename and its INSERT: leave young ones alone.
const orphanGraceMs = 60_000;
// Interrupted downloads are kept for resuming, but not forever.
const partialMaxAgeMs = 7 * 24 * 3600 * 1000;

/**
 * A content-addressed, size-capped package cache in front of the registries. Files live at
 * `dir/sha256/<hex>`; the SQLite index (shared by every process on the data folder) maps
 * registry + name + version to a digest and keeps the LRU order and counters.
 */
export class PackageCache {
  private readonly index: CacheIndex;
  private readonly blobDir: string;
  private readonly partialDir: string;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly inflight = new Map<string, SharedDownload>();

  constructor(private readonly options: PackageCacheOptions) {
    this.index = new CacheIndex(options.db);
    this.blobDir = path.join(options.dir, 'sha256');
    this.partialDir = path.join(options.dir, 'partial');
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  /** A local path to `name@versionOrRange` from `registryUrl`, downloading it on a miss. */
  async fetch(registryUrl: string, name: string, versionOrRange: string, options: CacheFetchOptions = {}): Promise<CacheFetchResult> {
    const { signal } = options;
    throwIfCancelled(signal);
    const registry = normalizeRegistryUrl(registryUrl);
    if (!isValidPackageName(name)) throw new DepotError('VALIDATION_FAILED', `"${name.slice(0, 100)}" is not a valid package name.`, { reason: 'bad-name' });
    const exact = semver.valid(versionOrRange) === versionOrRange ? versionOrRange : null;
    if (exact === null && semver.validRange(versionOrRange) === null) {
      throw new DepotError('VALIDATION_FAILED', `"${versionOrRange.slice(0, 100)}" is neither a version nor a version range.`, { reason: 'bad-range' });
    }
    const policy = this.options.signatures?.policy(registry) ?? 'off';
    if (this.options.offline()) {
      if (policy === 'require') {
        throw new DepotError('UNAVAILABLE', `${name}@${versionOrRange}: signatures cannot be checked offline, and ${registry} requires a trusted signature.`, { reason: 'signature-required' });
      }
      return this.fetchOffline(registry, name, exact, versionOrRange, signal);
    }

    // Versions are immutable: a cached exact version needs no network round trip at all (unless its signatures must be checked).
    if (exact !== null && policy === 'off') {
      const cached = this.index.findByName(registry, name, exact);
      if (cached) {
        const hit = await this.tryHit(cached, signal);
        if (hit) return hit;
      }
    }
    const client = this.options.clientFor(registry);
    const metadata = exact !== null ? await client.getVersion(name, exact, { signal }) : await client.resolve(name, versionOrRange, { signal });
    const digest = requireDigest(metadata.digest, `The registry's digest for ${metadata.name}@${metadata.version}`);
    // The same bytes may be cached under another version or registry: content addressing makes that a hit.
    const sameBytes = this.index.findByDigest(digest);
    if (sameBytes) {
      const hit = await this.tryHit(sameBytes, signal);
      if (hit) {
        await this.checkSignatures(policy, client, metadata, hit.path, signal);
        return { ...hit, name: metadata.name, version: metadata.version };
      }
    }
    this.index.bump('misses');
    const downloaded = await this.sharedDownload(registry, client, metadata, digest, policy, options);
    return { path: downloaded.path, digest, size: downloaded.size, name: metadata.name, version: metadata.version, fromCache: false };
  }

  list(): CacheEntry[] {
    return this.index.list().map((row) => ({ ...row, path: this.blobPath(row.digest) }));
  }

  stats(): CacheStats {
    return { ...this.index.readCounters(), ...this.index.totalsNow(), maxBytes: this.options.maxBytes() };
  }

  /** Empties the cache (counters are history and stay). Downloads in progress finish on their own. */
  async clean(): Promise<CacheCleanResult> {
    const rows = this.index.removeAll();
    for (const row of rows) await fsp.rm(this.blobPath(row.digest), { force: true });
    for (const name of await listDir(this.blobDir)) await fsp.rm(path.join(this.blobDir, name), { force: true });
    const busy = [...this.inflight.keys()].map(hexOf);
    for (const name of await listDir(this.partialDir)) {
      if (!busy.some((hex) => name.startsWith(hex))) await fsp.rm(path.join(this.partialDir, name), { force: true });
    }
    return { removedEntries: rows.length, freedBytes: rows.reduce((sum, row) => sum + row.size, 0) };
  }

  /** Evicts least-recently-used entries until the cache fits the cap (after the cap was lowered). */
  async enforceCap(): Promise<number> {
    return (await this.evictOverCap(null)).length;
  }

  /**
   * Start-up repair: drops rows whose file is gone or has the wrong size, deletes files no row
   * names, and clears stale locks and week-old interrupted downloads.
   */
  async reconcile(): Promise<CacheReconcileResult> {
    let droppedRows = 0;
    let deletedFiles = 0;
    for (const row of this.index.list()) {
      const size = await fileSize(this.blobPath(row.digest));
      if (size === row.size) continue;
      this.index.remove(row.digest);
      droppedRows += 1;
      if (size !== null) {
        await fsp.rm(this.blobPath(row.digest), { force: true });
        deletedFiles += 1;
      }
    }
    const now = Date.now();
    const busy = new Set([...this.inflight.keys()].map(hexOf));
    for (const name of await listDir(this.blobDir)) {
      const file = path.join(this.blobDir, name);
      if (busy.has(name) || this.index.findByDigest(`sha256:${name}`)) continue;
      const stats = await fsp.stat(file).catch(() => null);
      if (!stats || now - stats.mtimeMs < orphanGraceMs) continue;
      await fsp.rm(file, { force: true, recursive: true });
      deletedFiles += 1;
    }
    for (const name of await listDir(this.partialDir)) {
      const file = path.join(this.partialDir, name);
      if ([...busy].some((hex) => name.startsWith(hex))) continue;
      if (name.endsWith('.lock')) {
        const pid = Number(await fsp.readFile(file, 'utf8').catch(() => ''));
        if (!isProcessAlive(pid)) await fsp.rm(file, { force: true });
        continue;
      }
      const stats = await fsp.stat(file).catch(() => null);
      if (stats && now - stats.mtimeMs > partialMaxAgeMs) {
        await fsp.rm(file, { force: true });
        deletedFiles += 1;
      }
    }
    if (droppedRows + deletedFiles > 0) this.logger.info(`package cache: dropped ${droppedRows} stale index row(s), deleted ${deletedFiles} stray file(s)`);
    return { droppedRows, deletedFiles };
  }

  private async fetchOffline(registry: string, name: string, exact: string | null, range: string, signal: AbortSignal | undefined): Promise<CacheFetchResult> {
    const candidates = exact !== null ? [exact] : this.index.cachedVersions(registry, name).filter((version) => semver.satisfies(version, range)).sort(semver.rcompare);
    // Newest first; a corrupt copy is dropped and the next match tried.
    for (const version of candidates) {
      const row = this.index.findByName(registry, name, version);
      if (!row) continue;
      const hit = await this.tryHit(row, signal);
      if (hit) return hit;
    }
    this.index.bump('misses');
    throw new DepotError('UNAVAILABLE', `${name}@${exact ?? range} is not in the package cache, and offline mode is on.`, { reason: 'offline-not-cached' });
  }

  /** Checks a cached file (size, then SHA-256) and records the access; a bad copy is dropped (null). */
  private async tryHit(row: CacheIndexRow, signal: AbortSignal | undefined): Promise<CacheFetchResult | null> {
    const file = this.blobPath(row.digest);
    const size = await fileSize(file);
    let intact = size === row.size;
    if (intact) {
      try {
        intact = `sha256:${await hashFile(file, signal)}` === row.digest;
      } catch (error) {
        if (signal?.aborted || isAbortError(error)) throw cancelledError();
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        intact = false;
      }
    }
    if (!intact) {
      this.logger.warn(`package cache: ${row.name}@${row.version} (${row.digest}) is ${size === null ? 'missing' : 'corrupt'}; dropping it`);
      this.index.remove(row.digest);
      await fsp.rm(file, { force: true });
      return null;
    }
    this.index.touch(row.digest, this.now());
    this.index.bump('hits');
    return { path: file, digest: row.digest, size: row.size, name: row.name, version: row.version, fromCache: true };
  }

  /** One download per digest in this process, however many callers ask for it at once. */
  /** Applies the registry's signature policy to a file; `require` without a trusted signature throws. */
  private async checkSignatures(policy: SignaturePolicy, client: RegistryClient, metadata: PackageVersionMetadata, file: string, signal: AbortSignal | undefined): Promise<void> {
    if (policy === 'off') return;
    const verdict = await evaluateSignatures(
      metadata,
      file,
      this.options.signatures?.trustedKeys() ?? [],
      (keyId) => client.getSignature(metadata.name, metadata.version, keyId, signal ? { signal } : {}),
      signal,
    );
    enforceSignaturePolicy(policy, verdict, (message) => this.logger.warn(`package cache: ${message}`));
  }

  private sharedDownload(registry: string, client: RegistryClient, metadata: PackageVersionMetadata, digest: string, policy: SignaturePolicy, options: CacheFetchOptions): Promise<Downloaded> {
    let shared = this.inflight.get(digest);
    if (!shared) {
      const created = new SharedDownload(
        (signal, onProgress) => this.downloadInto(registry, client, metadata, digest, policy, signal, onProgress),
        () => {
          if (this.inflight.get(digest) === created) this.inflight.delete(digest);
        },
      );
      shared = created;
      this.inflight.set(digest, created);
    }
    return shared.join(options.signal, options.onProgress);
  }

  private async downloadInto(
    registry: string,
    client: RegistryClient,
    metadata: PackageVersionMetadata,
    digest: string,
    policy: SignaturePolicy,
    signal: AbortSignal,
    onProgress: (received: number, total: number | null) => void,
  ): Promise<Downloaded> {
    await fsp.mkdir(this.partialDir, { recursive: true });
    await fsp.mkdir(this.blobDir, { recursive: true });
    const slot = await claimDownloadSlot(this.partialDir, hexOf(digest));
    try {
      const provider = this.options.mirrors?.() ?? null;
      const viaMirrors = provider ? await downloadViaMirrorSet(provider, client, metadata, slot.dest, { signal, onProgress }) : null;
      const result = viaMirrors ?? (await client.download(metadata.name, metadata.version, slot.dest, { signal, onProgress, expectedDigest: digest }));
      try {
        await this.checkSignatures(policy, client, metadata, result.path, signal);
      } catch (error) {
        // Fail closed: bytes that the policy refuses are not kept, not even for a resume.
        await fsp.rm(result.path, { force: true });
        throw error;
      }
      const final = this.blobPath(digest);
      await fsp.rename(result.path, final);
      await fsyncDirectory(this.blobDir);
      this.index.record({ digest, size: result.size, name: metadata.name, version: metadata.version, registryUrl: registry }, this.now());
      await this.evictOverCap(digest);
      return { path: final, size: result.size };
    } catch (error) {
      // Only the claimed slot keeps its partial file for a later resume.
      if (!slot.resumable) await fsp.rm(`${slot.dest}${partialSuffix}`, { force: true });
      throw error;
    } finally {
      await slot.release();
    }
  }

  private async evictOverCap(protect: string | null): Promise<CacheIndexRow[]> {
    const removed = this.index.evict(this.options.maxBytes(), new Set(this.inflight.keys()), protect ?? '');
    for (const row of removed) {
      await fsp.rm(this.blobPath(row.digest), { force: true });
      this.logger.info(`package cache: evicted ${row.name}@${row.version} (${row.size} bytes)`);
    }
    return removed;
  }

  private blobPath(digest: string): string {
    return path.join(this.blobDir, hexOf(digest));
  }
}

/**
 * Callers joined to one download. Each caller may cancel its own wait; the download itself is
 * aborted only when every caller has gone.
 */
class SharedDownload {
  private readonly controller = new AbortController();
  private readonly listeners = new Set<(received: number, total: number | null) => void>();
  private waiting = 0;
  private readonly done: Promise<Downloaded>;

  constructor(
    run: (signal: AbortSignal, onProgress: (received: number, total: number | null) => void) => Promise<Downloaded>,
    private readonly onSettled: () => void,
  ) {
    this.done = run(this.controller.signal, (received, total) => {
      for (const listener of this.listeners) listener(received, total);
    });
    this.done.then(onSettled, onSettled);
  }

  async join(signal: AbortSignal | undefined, onProgress: ((received: number, total: number | null) => void) | undefined): Promise<Downloaded> {
    throwIfCancelled(signal);
    this.waiting += 1;
    if (onProgress) this.listeners.add(onProgress);
    let onAbort: (() => void) | undefined;
    try {
      if (!signal) return await this.done;
      const cancelled = new Promise<never>((_resolve, reject) => {
        onAbort = () => reject(cancelledError());
        signal.addEventListener('abort', onAbort, { once: true });
      });
      return await Promise.race([this.done, cancelled]);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      if (onProgress) this.listeners.delete(onProgress);
      this.waiting -= 1;
      if (this.waiting === 0 && signal?.aborted) {
        // Nobody wants it any more: stop the transfer, and let the next caller start a fresh one.
        this.onSettled();
        this.controller.abort();
        // Answer only once the transfer has stopped: its partial file is saved and its slot free for a resume.
        await this.done.catch(() => undefined);
      }
    }
  }
}

interface DownloadSlot {
  dest: string;
  /** True for the per-digest slot: its partial file survives a failure and is resumed later. */
  resumable: boolean;
  release(): Promise<void>;
}

/**
 * A lock file per digest so two processes never write the same partial file. The loser downloads
 * to a private name instead (no resume for it, but no clobbering); a lock whose process died is taken over.
 */
async function claimDownloadSlot(partialDir: string, hex: string): Promise<DownloadSlot> {
  const lockPath = path.join(partialDir, `${hex}.lock`);
  const claimed: DownloadSlot = { dest: path.join(partialDir, hex), resumable: true, release: () => fsp.rm(lockPath, { force: true }) };
  try {
    await fsp.writeFile(lockPath, String(process.pid), { flag: 'wx' });
    return claimed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = Number(await fsp.readFile(lockPath, 'utf8').catch(() => ''));
  // Our own pid here is a leftover: this process shares downloads in memory and never locks twice.
  if (holder === process.pid || !isProcessAlive(holder)) {
    await fsp.writeFile(lockPath, String(process.pid));
    return claimed;
  }
  return { dest: path.join(partialDir, `${hex}-${process.pid}-${randomBytes(4).toString('hex')}`), resumable: false, release: async () => undefined };
}

function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

async function hashFile(file: string, signal: AbortSignal | undefined): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hash, signal ? { signal } : {});
  return hash.digest('hex');
}

async function fileSize(file: string): Promise<number | null> {
  try {
    const stats = await fsp.stat(file);
    return stats.isFile() ? stats.size : null;
  } catch {
    return null;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch {
    return [];
  }
}
