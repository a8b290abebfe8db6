import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import type { PackageInspectionView, PackageSource, PublishMetadata, PublishResult, StagedPackage } from '../../../shared/domain/registry';
import { inspectPackage } from '../packages/format';
import { digestFile, digestStream } from '../fs/file-digests';
import { signDigests } from '../signing/file-signature';
import type { SigningKeyPair } from '../signing/ed25519-keys';
import type { JobHandle, JobRunner } from '../jobs/job-runner';
import { resourceView, tagsFromManifest, type RegistryService } from './registry-service';
import { receiveUpload } from './upload-receiver';
import { crashPoint } from '../fs/crash-point';
import type { PublishEncryption } from '../../../shared/domain/encryption';

interface StagedFile extends StagedPackage {
  tempPath: string;
  digestHex: string;
}

export interface StagingAreaOptions {
  tmpDir: string;
  registry: RegistryService;
  jobs: JobRunner;
  maxPackageBytes: () => number;
  /** Told of every package published from the UI (monitoring records it as an upload). */
  onPublished?: (result: PublishResult, durationMs: number) => void;
  /** One of this install's signing keys, for signing on publish; throws for an unknown or retired key. */
  signingPair?: (keyId: string) => SigningKeyPair;
}

export interface PublishOptions {
  /** Sign the published version with this key of ours (signing on publish). */
  signWith?: string | null;
  /** Store the package encrypted (its plaintext is checked first). */
  encrypt?: PublishEncryption;
}

/**
 * Packages on their way to being published from the UI: uploaded bytes (browser) or a file the
 * user dropped (desktop). Inspect first, then publish as a job with progress and cancel.
 */
export class StagingArea {
  private readonly staged = new Map<string, StagedFile>();

  constructor(private readonly options: StagingAreaOptions) {}

  async stageStream(body: Readable, fileName: string, signal?: AbortSignal): Promise<StagedPackage> {
    const upload = await receiveUpload(body, { tmpDir: path.join(this.options.tmpDir, 'staging'), maxBytes: this.options.maxPackageBytes(), name: 'staged', ...(signal ? { signal } : {}) });
    return this.adopt(upload.tempPath, fileName, upload.size, upload.digestHex);
  }

  /** Takes over a finished package file in the staging folder (a packed folder) as a staged upload. */
  adopt(tempPath: string, fileName: string, size: number, digestHex: string): StagedPackage {
    const id = randomBytes(16).toString('hex');
    const entry: StagedFile = { id, fileName: path.basename(fileName).slice(0, 200) || 'package.torshpkg', size, digest: `sha256:${digestHex}`, tempPath, digestHex };
    this.staged.set(id, entry);
    return { id, fileName: entry.fileName, size, digest: entry.digest };
  }

  async inspect(source: PackageSource): Promise<PackageInspectionView> {
    const { file, fileName } = await this.locate(source);
    const inspection = await inspectPackage(file);
    const { manifest } = inspection;
    let alreadyPublished: PackageInspectionView['alreadyPublished'] = null;
    try {
      const existing = this.options.registry.getVersion(manifest.name, manifest.version);
      const stagedDigest = source.kind === 'staged' ? this.staged.get(source.id)?.digest : undefined;
      alreadyPublished = { digest: existing.digest, sameBytes: stagedDigest === undefined ? null : stagedDigest === existing.digest };
    } catch (error) {
      if (!(error instanceof DepotError) || (error.code !== 'NOT_FOUND' && error.code !== 'VALIDATION_FAILED')) throw error;
    }
    return {
      fileName,
      fileSize: inspection.fileSize,
      name: manifest.name,
      version: manifest.version,
      formatVersion: manifest.format_version,
      createdAt: manifest.created_at,
      description: manifest.description ?? null,
      author: manifest.author ?? null,
      license: manifest.license ?? null,
      tags: tagsFromManifest(manifest.metadata),
      resources: inspection.resources.map(resourceView),
      dependencies: inspection.dependencies,
      alreadyPublished,
    };
  }

  /**
   * Publishes as a job: copies a local file in first (with progress), then validates, encrypts when
   * asked and stores; signs when asked. `encrypt` stays in this closure: job params and records never
   * see the passphrase.
   */
  publish(source: PackageSource, metadata: PublishMetadata, publisher: string | null, ownerUserId: string | null = null, options: PublishOptions = {}): JobHandle<PublishResult> {
    const label = source.kind === 'staged' ? (this.staged.get(source.id)?.fileName ?? 'package') : path.basename(source.path);
    if (source.kind === 'staged' && !this.staged.has(source.id)) throw new DepotError('NOT_FOUND', 'That upload is no longer staged; drop the package again.');
    // An unknown or retired key is refused before anything starts, not after the version is public.
    const signer = options.signWith ? this.signer(options.signWith) : null;
    const { encrypt } = options;
    const params = { source: source.kind, label, encrypted: encrypt !== undefined, signWith: options.signWith ?? null };
    return this.options.jobs.start('package-publish', `Publish ${label}`, params, async (context) => {
      let upload;
      if (source.kind === 'staged') {
        const entry = this.staged.get(source.id);
        if (!entry) throw new DepotError('NOT_FOUND', 'That upload is no longer staged; drop the package again.');
        this.staged.delete(source.id);
        upload = { tempPath: entry.tempPath, digestHex: entry.digestHex, size: entry.size };
      } else {
        const { file } = await this.locate(source);
        const total = (await fsp.stat(file)).size;
        upload = await receiveUpload(createReadStream(file), {
          tmpDir: this.options.tmpDir,
          maxBytes: this.options.maxPackageBytes(),
          signal: context.signal,
          name: 'publish',
          onProgress: (bytes) => context.reportProgress((0.4 * bytes) / Math.max(total, 1), 'Copying into the registry'),
        });
      }
      let base = source.kind === 'staged' ? 0 : 0.4;
      let blake2b512: Buffer | null = null;
      // An encrypted version's signature covers its ciphertext, which exists only once stored (below).
      if (signer && !encrypt) {
        // Hashed before publishing, so cancelling here leaves nothing published; signing after is instant.
        const hashShare = 0.3 * (1 - base);
        const hashFrom = base;
        try {
          blake2b512 = (await digestFile(upload.tempPath, ['blake2b512'], { signal: context.signal, onProgress: (bytes) => context.reportProgress(hashFrom + (hashShare * bytes) / Math.max(upload.size, 1), 'Hashing for the signature') })).digests.blake2b512;
        } catch (error) {
          await fsp.rm(upload.tempPath, { force: true });
          throw error;
        }
        base += hashShare;
      }
      const started = performance.now();
      const result = await this.options.registry.publishUpload(upload, {
        metadata,
        publisher,
        ownerUserId,
        ...(encrypt ? { encrypt } : {}),
        signal: context.signal,
        onProgress: (fraction, message) => context.reportProgress(base + (1 - base) * fraction, message),
      });
      this.options.onPublished?.(result, performance.now() - started);
      if (signer) {
        crashPoint('sign-on-publish');
        if (!blake2b512) {
          // The version is public now: finish signing it even if cancel is pressed (it takes one read).
          context.reportProgress(1, 'Hashing the encrypted package for the signature');
          const { stream } = await this.options.registry.openDownload(result.name, result.version);
          blake2b512 = (await digestStream(stream, ['blake2b512'])).digests.blake2b512;
        }
        const signature = signDigests(signer, { blake2b512, sha256: result.digest.replace(/^sha256:/, ''), size: result.size }, { name: result.name, version: result.version }, `${result.name.replace('/', '__')}-${result.version}.torshpkg`);
        // The version is new: no earlier signature to replace, so the publisher's own id is all that is needed.
        await this.options.registry.putSignature(result.name, result.version, signature, publisher, { id: ownerUserId, mayReplaceAny: false }, { blake2b512 });
        context.reportProgress(1, `Published and signed with key ${options.signWith ?? ''}`);
      }
      return result;
    });
  }

  private signer(keyId: string): SigningKeyPair {
    if (!this.options.signingPair) throw new DepotError('NOT_FOUND', 'This install has no signing keys.', { reason: 'no-keyring' });
    return this.options.signingPair(keyId);
  }

  async discard(id: string): Promise<void> {
    const entry = this.staged.get(id);
    if (!entry) return;
    this.staged.delete(id);
    await fsp.rm(entry.tempPath, { force: true });
  }

  async discardAll(): Promise<void> {
    await Promise.all([...this.staged.keys()].map((id) => this.discard(id)));
  }

  private async locate(source: PackageSource): Promise<{ file: string; fileName: string }> {
    if (source.kind === 'staged') {
      const entry = this.staged.get(source.id);
      if (!entry) throw new DepotError('NOT_FOUND', 'That upload is no longer staged; drop the package again.');
      return { file: entry.tempPath, fileName: entry.fileName };
    }
    // Desktop drops give real paths; still refuse anything that is not a plain .torshpkg file.
    if (!path.isAbsolute(source.path)) throw new DepotError('VALIDATION_FAILED', 'A package path must be absolute.');
    if (path.extname(source.path).toLowerCase() !== '.torshpkg') throw new DepotError('VALIDATION_FAILED', 'Only .torshpkg files can be published.', { reason: 'not-a-torshpkg' });
    const stats = await fsp.stat(source.path).catch(() => null);
    if (!stats?.isFile()) throw new DepotError('NOT_FOUND', `No package file at ${source.path}.`);
    return { file: source.path, fileName: path.basename(source.path) };
  }
}
