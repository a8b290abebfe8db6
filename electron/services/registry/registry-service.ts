import { promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import semver from 'semver';
import { DepotError } from '../../../shared/errors';
import type {
  PackageVersionMetadata,
  PackageVersionsListing,
  PublishMetadata,
  PublishResult,
  SearchResult,
  SignatureSummary,
  VersionRow,
} from '../../../shared/domain/registry';
import { versionSignatureState } from '../../../shared/domain/registry';
import { isValidPackageName } from '../../../shared/packages/manifest';
import { inspectPackage, type PackageResourceInfo } from '../packages/format';
import type { BlobStore } from '../blobs/blob-store';
import type { ByteRange } from '../storage/storage-backend';
import type { Logger } from '../logger';
import type { NewVersion, PackageFilter, RegistryRepository } from './registry-repository';
import type { ReceivedUpload } from './upload-receiver';
import type { RegistrySignatures, SignatureUploader } from './registry-signatures';
import type { PublishEncryption, VersionEncryption } from '../../../shared/domain/encryption';
import { PackageEncryptor } from '../encryption/package-encryptor';
import { encryptUpload } from './encrypt-upload';
import type { VersionChange, VisibilityGate } from './visibility-gate';
import type { ConsistencyLevel } from '../../../shared/domain/replication';
import { packageNotFound } from '../access/package-not-found';
import { BlobsInFlight } from '../blobs/blobs-in-flight';
import { crashPoint } from '../fs/crash-point';

export interface RegistryServiceOptions {
  repository: RegistryRepository;
  blobs: BlobStore;
  logger: Logger;
  now?: () => Date;
  /** Signatures shown in version metadata (`signatures: [{key_id, trusted, signed_at}]`). */
  signatures?: RegistrySignatures;
  /** Runs inside the transaction that creates a package (access control: default visibility, owner). */
  packageCreated?: (name: string, ownerUserId: string | null) => void;
  /** Encrypts on publish (tests lower its KDF cost). */
  encryptor?: PackageEncryptor;
  /** Holds a new version invisible until replication's consistency level is met (see visibility-gate.ts). */
  visibilityGate?: VisibilityGate;
  /** Where bytes come from when the blob store cannot open them (replication: the nearest healthy replica). */
  readFallback?: (digestHex: string, range: ByteRange | undefined) => Promise<Readable | null>;
  /** Told after a version's yank state or signatures change (replication replays it to replicas). */
  versionChanged?: (name: string, version: string, change: VersionChange) => void;
  /** Blobs being published, shared with the garbage collector. */
  inFlight?: BlobsInFlight;
}

export function assertPackageName(name: string): void {
  if (!isValidPackageName(name)) {
    throw new DepotError('VALIDATION_FAILED', `Invalid package name "${name.slice(0, 100)}": use lowercase letters, digits, "-", "_", ".", and at most one "scope/" prefix.`, { reason: 'bad-name' });
  }
}

export function assertVersion(version: string): void {
  if (semver.valid(version) !== version) {
    throw new DepotError('VALIDATION_FAILED', `Invalid version "${version.slice(0, 100)}": expected strict semver MAJOR.MINOR.PATCH[-pre][+build].`, { reason: 'bad-semver' });
  }
}

/** The registry's logic, shared by the HTTP API, the contract (UI) and the CLI. */
export class RegistryService {
  private readonly now: () => Date;
  private readonly encryptor: PackageEncryptor;
  private readonly inFlight: BlobsInFlight;

  constructor(private readonly options: RegistryServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.encryptor = options.encryptor ?? new PackageEncryptor();
    this.inFlight = options.inFlight ?? new BlobsInFlight();
  }

  /**
   * Publishes an uploaded file: validate it fully, then (when asked) encrypt it, then store the blob,
   * then record the version in one transaction. Until that commit nothing is visible; the temp files
   * are always consumed. An encrypted version's digest and size are the ciphertext's.
   */
  async publishUpload(
    upload: ReceivedUpload,
    request: {
      name?: string;
      version?: string;
      metadata?: PublishMetadata;
      publisher: string | null;
      ownerUserId?: string | null;
      /** Never logged or recorded: it only reaches the encryptor. */
      encrypt?: PublishEncryption;
      /** `publish --consistency`: overrides the replication rule's level. */
      consistency?: ConsistencyLevel;
      signal?: AbortSignal;
      onProgress?: (fraction: number, message: string) => void;
      /** Re-checks the publisher's permission inside the transaction that records the version. */
      authorize?: () => void;
    },
  ): Promise<PublishResult> {
    let sealedPath: string | null = null;
    try {
      if (request.name !== undefined) assertPackageName(request.name);
      if (request.version !== undefined) assertVersion(request.version);
      const { encrypt } = request;
      const validationShare = encrypt ? 0.45 : 0.9;
      request.onProgress?.(0, 'Validating package');
      // The entries are checked from the page cache while the upload's fsync (if still running) goes to the disk.
      const [inspection] = await Promise.all([
        inspectPackage(upload.tempPath, {
          ...(request.signal ? { signal: request.signal } : {}),
          onProgress: (done, total) => request.onProgress?.(total > 0 ? (validationShare * done) / total : 0, 'Verifying resources'),
        }),
        upload.synced,
      ]);
      const { manifest } = inspection;
      if (request.name !== undefined && manifest.name !== request.name) {
        throw new DepotError('INVALID_PACKAGE', `The package's manifest names "${manifest.name}", not "${request.name}".`, { reason: 'name-mismatch' });
      }
      if (request.version !== undefined && manifest.version !== request.version) {
        throw new DepotError('INVALID_PACKAGE', `The package's manifest says version ${manifest.version}, not ${request.version}.`, { reason: 'version-mismatch' });
      }
      assertPackageName(manifest.name);
      assertVersion(manifest.version);
      const existing = this.options.repository.findVersion(manifest.name, manifest.version);
      // Checked before encrypting: an encrypted publish never repeats its bytes, so it is never the same.
      if (existing) return this.sameOrConflict(existing, `sha256:${upload.digestHex}`, upload.size, encrypt !== undefined);

      request.signal?.throwIfAborted();
      let blob: ReceivedUpload = upload;
      let encryption: VersionEncryption | null = null;
      if (encrypt) {
        request.onProgress?.(validationShare, 'Encrypting');
        const result = await encryptUpload(this.encryptor, upload, encrypt, {
          signal: request.signal,
          onProgress: (fraction) => {
            if (fraction >= 0.5) crashPoint('publish-encrypting');
            request.onProgress?.(validationShare + (0.92 - validationShare) * fraction, 'Encrypting');
          },
        });
        sealedPath = result.sealed.tempPath;
        blob = result.sealed;
        encryption = result.encryption;
      }
      const metadata = request.metadata ?? {};
      // An encrypted version discloses what identifies it (name, version, texts, dependencies), not its contents.
      const disclosed = encryption ? { ...manifest, modules: [], resources: [] } : manifest;
      return await this.storeAndRecord(blob, {
        name: manifest.name,
        version: manifest.version,
        description: metadata.description !== undefined ? metadata.description : (manifest.description ?? null),
        author: metadata.author !== undefined ? metadata.author : (manifest.author ?? null),
        license: metadata.license !== undefined ? metadata.license : (manifest.license ?? null),
        tags: metadata.tags ?? tagsFromManifest(manifest.metadata),
        manifestJson: JSON.stringify(disclosed),
        resources: encryption ? [] : inspection.resources.map(resourceView),
        dependencies: inspection.dependencies,
        encryption,
        publisher: request.publisher,
        ownerUserId: request.ownerUserId ?? null,
        consistency: request.consistency,
        signal: request.signal,
        onProgress: request.onProgress,
        authorize: request.authorize,
      });
    } finally {
      await fsp.rm(upload.tempPath, { force: true });
      if (sealedPath !== null) await fsp.rm(sealedPath, { force: true });
    }
  }

  /**
   * Publishes a package its publisher encrypted before uploading (`publish --passphrase-file/--recipient`):
   * the registry cannot read it, so the name and version come from the request, and what the file is
   * (AES-256-GCM, or age with a passphrase or recipients) from its header. The publisher checked the
   * plaintext; the registry checks that the bytes are a well-formed encrypted file, and stores them.
   */
  async publishSealedUpload(
    upload: ReceivedUpload,
    request: {
      name: string;
      version: string;
      metadata?: PublishMetadata;
      dependencies?: Record<string, string>;
      publisher: string | null;
      ownerUserId?: string | null;
      consistency?: ConsistencyLevel;
      signal?: AbortSignal;
      authorize?: () => void;
    },
  ): Promise<PublishResult> {
    try {
      assertPackageName(request.name);
      assertVersion(request.version);
      for (const dependency of Object.keys(request.dependencies ?? {})) assertPackageName(dependency);
      const encryption = await this.encryptor.describeFile(upload.tempPath);
      const existing = this.options.repository.findVersion(request.name, request.version);
      if (existing) return this.sameOrConflict(existing, `sha256:${upload.digestHex}`, upload.size, true);
      const metadata = request.metadata ?? {};
      const dependencies = request.dependencies ?? {};
      return await this.storeAndRecord(upload, {
        name: request.name,
        version: request.version,
        description: metadata.description ?? null,
        author: metadata.author ?? null,
        license: metadata.license ?? null,
        tags: metadata.tags ?? [],
        manifestJson: JSON.stringify({ name: request.name, version: request.version, dependencies, modules: [], resources: [] }),
        resources: [],
        dependencies,
        encryption,
        publisher: request.publisher,
        ownerUserId: request.ownerUserId ?? null,
        consistency: request.consistency,
        signal: request.signal,
        authorize: request.authorize,
      });
    } finally {
      await fsp.rm(upload.tempPath, { force: true });
    }
  }

  /** Stores a checked blob, then records its version in one transaction (nothing is visible before). */
  private async storeAndRecord(
    blob: ReceivedUpload,
    version: Omit<NewVersion, 'digest' | 'size' | 'publishedAt' | 'publishedBy' | 'encryption'> & {
      encryption: VersionEncryption | null;
      publisher: string | null;
      ownerUserId: string | null;
      consistency?: ConsistencyLevel | undefined;
      signal?: AbortSignal | undefined;
      onProgress?: ((fraction: number, message: string) => void) | undefined;
      authorize?: (() => void) | undefined;
    },
  ): Promise<PublishResult> {
    const { publisher, ownerUserId, consistency, signal, onProgress, authorize, ...fields } = version;
    const digest = `sha256:${blob.digestHex}`;
    const encrypting = fields.encryption !== null;
    await blob.synced;
    signal?.throwIfAborted();
    onProgress?.(0.92, 'Storing');
    // Held until recorded or given up: the garbage collector never takes a blob being published.
    const release = await this.inFlight.hold(blob.digestHex);
    let stored = false;
    let authorized = false;
    const publishedAt = this.now().toISOString();
    try {
      stored = await this.options.blobs.storeFile(blob.digestHex, blob.tempPath, blob.size, signal);
      crashPoint('publish-after-store');
      if (this.options.visibilityGate) {
        onProgress?.(0.95, 'Replicating');
        const { name, version: number, description, author, license, tags, dependencies } = fields;
        await this.options.visibilityGate.beforeVisible({ name, version: number, digest, size: blob.size, description, author, license, tags, dependencies, publishedAt, publishedBy: publisher }, { consistency });
      }
      this.options.repository.insertVersion(
        { ...fields, digest, size: blob.size, publishedAt, publishedBy: publisher },
        () => this.options.packageCreated?.(fields.name, ownerUserId),
        // Inside the transaction: access may have changed during a long upload (a package made private).
        () => {
          authorize?.();
          authorized = true;
        },
      );
    } catch (error) {
      release();
      if (stored) await this.discardBlob(blob.digestHex);
      if (authorize && !authorized) throw error;
      // Two publishers raced for the same version: the loser gets the same answer as a later retry.
      const winner = this.options.repository.findVersion(fields.name, fields.version);
      if (winner) return this.sameOrConflict(winner, digest, blob.size, encrypting);
      throw error;
    } finally {
      release();
    }
    this.options.logger.info(`published ${fields.name}@${fields.version} (${blob.size} bytes, ${digest}${fields.encryption ? `, encrypted ${fields.encryption.algorithm}` : ''})`);
    // Only encrypted publishes say so: the HTTP PUT answer of a plain publish keeps its shape.
    return { name: fields.name, version: fields.version, digest, size: blob.size, created: true, ...(fields.encryption ? { encryption: fields.encryption } : {}) };
  }

  /** A blob this publish stored but did not record: removed unless a version or another publish needs it. */
  private async discardBlob(digestHex: string): Promise<void> {
    try {
      await this.inFlight.deleteUnlessHeld(digestHex, () => this.options.repository.isDigestReferenced(digestHex), () => this.options.blobs.delete(digestHex));
    } catch (error) {
      // The garbage collector takes it later.
      this.options.logger.warn(`could not remove unpublished blob ${digestHex}: ${(error as Error).message}`);
    }
  }

  /**
   * Same bytes again is a no-op (a retried upload); anything else is a conflict. Encrypting makes new
   * bytes every time, so an encrypted re-publish always conflicts: the registry keeps no plaintext
   * fingerprint to compare with (it would let anyone confirm a guessed package).
   */
  private sameOrConflict(existing: PackageVersionMetadata, digest: string, size: number, encrypting: boolean): PublishResult {
    if (encrypting || existing.encryption) {
      throw new DepotError(
        'CONFLICT',
        `${existing.name}@${existing.version} is already published${existing.encryption ? ' (encrypted)' : ''}; versions are immutable${encrypting ? ' and encrypting makes new bytes every time' : ''}: publish a new version.`,
        { reason: 'version-exists' },
      );
    }
    if (existing.digest !== digest) {
      throw new DepotError('CONFLICT', `${existing.name}@${existing.version} is already published with different bytes (${existing.digest}); versions are immutable.`);
    }
    return { name: existing.name, version: existing.version, digest, size, created: false };
  }

  getVersion(name: string, version: string): PackageVersionMetadata {
    assertPackageName(name);
    const found = this.options.repository.findVersion(name, version);
    if (!found) throw this.versionNotFound(name, version);
    return this.withSignatures(found);
  }

  /** A missing package answers like a hidden one (access control's 404); a missing version of a known one names it. */
  private versionNotFound(name: string, version: string): DepotError {
    if (!this.options.repository.hasPackage(name)) return packageNotFound(name);
    return new DepotError('NOT_FOUND', `${name}@${version} is not published here.`);
  }

  private withSignatures(metadata: PackageVersionMetadata): PackageVersionMetadata {
    const signatures = this.options.signatures;
    return signatures ? { ...metadata, signatures: signatures.summaries(metadata) } : metadata;
  }

  listVersions(name: string): PackageVersionsListing {
    assertPackageName(name);
    const versions = this.options.repository.versionsOf(name);
    if (versions.length === 0) throw packageNotFound(name);
    return {
      name,
      versions: versions.map((version) => ({
        version: version.version,
        digest: version.digest,
        size: version.size,
        published_at: version.published_at,
        yanked: version.yanked,
        ...(this.options.signatures ? { signature: versionSignatureState(this.options.signatures.summaries(version)) } : {}),
        encryption: version.encryption ?? null,
      })),
    };
  }

  /** Newest non-yanked version matching a semver range (`^1.2`, `~1.2.3`, `>=1 <2`, `1.x`, `*`, `||`). */
  resolve(name: string, range: string): PackageVersionMetadata {
    assertPackageName(name);
    const normalized = semver.validRange(range.trim() === '' ? '*' : range);
    if (normalized === null) throw new DepotError('VALIDATION_FAILED', `Invalid version range "${range.slice(0, 100)}".`, { reason: 'bad-range' });
    const all = this.options.repository.versionsOf(name);
    if (all.length === 0) throw packageNotFound(name);
    const candidates = all.filter((version) => !version.yanked);
    const best = semver.maxSatisfying(
      candidates.map((version) => version.version),
      normalized,
    );
    const found = candidates.find((version) => version.version === best);
    if (!found) throw new DepotError('NOT_FOUND', `No version of ${name} matches ${range}.`);
    return this.withSignatures(found);
  }

  search(query: string, page: number, perPage: number, filter?: PackageFilter): SearchResult {
    const { total, totalCapped, packages } = this.options.repository.search(query.slice(0, 200), page, perPage, filter);
    return { total, total_capped: totalCapped, page, per_page: perPage, packages };
  }

  listVersionRows(offset: number, limit: number): { total: number; rows: VersionRow[] } {
    return this.options.repository.listVersionRows(offset, limit);
  }

  setYanked(name: string, version: string, yanked: boolean): PackageVersionMetadata {
    assertPackageName(name);
    const updated = this.options.repository.setYanked(name, version, yanked);
    if (!updated) throw this.versionNotFound(name, version);
    this.options.logger.info(`${yanked ? 'yanked' : 'unyanked'} ${name}@${version}`);
    this.options.versionChanged?.(name, version, { yanked });
    return updated;
  }

  /** Opens a version's bytes. Yanked versions still download by exact version. */
  async openDownload(name: string, version: string, range?: ByteRange): Promise<{ metadata: PackageVersionMetadata; stream: Readable }> {
    const metadata = this.getVersion(name, version);
    await this.options.visibilityGate?.beforeRead?.(name, version);
    const digestHex = metadata.digest.replace(/^sha256:/, '');
    try {
      return { metadata, stream: await this.options.blobs.open(digestHex, range) };
    } catch (error) {
      const fallback = await this.options.readFallback?.(digestHex, range);
      if (!fallback) throw error;
      return { metadata, stream: fallback };
    }
  }

  /** Adds (or, for the same key, replaces) a minisign signature of a published version. */
  async putSignature(
    name: string,
    version: string,
    text: string,
    uploadedBy: string | null,
    uploader: SignatureUploader,
    options: { signal?: AbortSignal | undefined; blake2b512?: Buffer } = {},
  ): Promise<SignatureSummary> {
    const metadata = this.getVersion(name, version);
    const summary = await this.signatureStore().put(metadata, text, uploadedBy, uploader, options);
    this.options.logger.info(`signature by key ${summary.key_id} added to ${name}@${version}`);
    this.options.versionChanged?.(name, version, { signatures: [text] });
    return summary;
  }

  /** A version's signature by `keyId`, or its best one (trusted first, then newest). */
  getSignature(name: string, version: string, keyId?: string): string {
    return this.signatureStore().get(this.getVersion(name, version), keyId);
  }

  private signatureStore(): RegistrySignatures {
    if (!this.options.signatures) throw new DepotError('NOT_FOUND', 'This registry does not keep signatures.');
    return this.options.signatures;
  }

  /** A presigned URL for a version's bytes when the blob store can sign one (S3, GCS, Azure with a key). */
  async presignedDownloadUrl(name: string, version: string, expiresInSeconds: number): Promise<string | null> {
    const metadata = this.getVersion(name, version);
    return this.options.blobs.presignedUrl(metadata.digest.replace(/^sha256:/, ''), expiresInSeconds);
  }

  recordDownload(name: string, version: string): void {
    this.options.repository.addDownloads(name, version);
  }
}

/** A resource as the API and the UI show it. */
export function resourceView(resource: PackageResourceInfo): PackageVersionMetadata['resources'][number] {
  return {
    path: resource.path,
    name: resource.name,
    type: resource.type,
    size: resource.size,
    compressed_size: resource.compressedSize,
    compression: resource.compression,
    sha256: resource.sha256,
  };
}

/** The manifest's free-form metadata may carry `tags` as a comma-separated list. */
export function tagsFromManifest(metadata: Record<string, string> | undefined): string[] {
  const raw = metadata?.tags;
  if (!raw) return [];
  return raw
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => /^[\p{L}\p{N}][\p{L}\p{N}._+-]*$/u.test(tag))
    .slice(0, 50);
}
