import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DepotError } from '../../../shared/errors';
import type { ExportDecryption, VersionEncryption } from '../../../shared/domain/encryption';
import type { PackageVersionMetadata } from '../../../shared/domain/registry';
import { fsyncDirectory, tempPathFor } from '../fs/atomic-write';
import type { JobContext } from '../jobs/job-runner';
import type { DecryptOptions, PackageEncryptor } from '../encryption/package-encryptor';
import { parseAgeIdentities } from '../encryption/x25519-keys';
import type { RegistryService } from './registry-service';

export interface ExportRequest {
  name: string;
  version: string;
  directory: string;
  /** Only for encrypted versions: the passphrase or age identity text. Never recorded. */
  decrypt?: ExportDecryption;
}

export interface ExportTools {
  encryptor: PackageEncryptor;
  /** Where the ciphertext waits while it is decrypted (the core's scratch folder, swept at start). */
  tmpDir: string;
}

/**
 * Copies a published version into a folder: temp file, fsync, rename; never a half-written package.
 * An encrypted version is decrypted when `decrypt` is given (the plaintext appears only once every
 * segment has authenticated), else saved as ciphertext under a name that says so.
 */
export async function exportVersion(registry: RegistryService, request: ExportRequest, context: JobContext, tools: ExportTools): Promise<{ path: string; size: number; decrypted: boolean }> {
  const { name, version, directory, decrypt } = request;
  if (!path.isAbsolute(directory)) throw new DepotError('VALIDATION_FAILED', 'The target folder must be an absolute path.');
  const stats = await fsp.stat(directory).catch(() => null);
  if (!stats?.isDirectory()) throw new DepotError('NOT_FOUND', `No folder at ${directory}.`);
  const baseName = `${name.replace('/', '__')}-${version}.torshpkg`;
  const encryption = registry.getVersion(name, version).encryption ?? null;
  const unlock = decrypt ? unlockFor(`${name}@${version}`, encryption, decrypt) : null;
  const { metadata, stream } = await registry.openDownload(name, version);
  let result: { path: string; size: number; decrypted: boolean };
  if (unlock === null) {
    const target = path.join(directory, encryption ? `${baseName}${encryptedSuffix(encryption)}` : baseName);
    const size = await downloadAtomically(stream, target, metadata, context, 1);
    result = { path: target, size, decrypted: false };
  } else {
    const target = path.join(directory, baseName);
    const sealed = path.join(tools.tmpDir, `export-${randomBytes(8).toString('hex')}.sealed`);
    try {
      await checkKeyOnHeader(registry, metadata, sealed, unlock, tools.encryptor).catch((error: unknown) => {
        stream.destroy();
        throw error;
      });
      await downloadAtomically(stream, sealed, metadata, context, 0.5);
      context.reportProgress(0.5, `Decrypting ${name}@${version}`);
      const { size } = await tools.encryptor.decryptFile(sealed, target, {
        ...unlock,
        signal: context.signal,
        onProgress: (done) => context.reportProgress(0.5 + (0.5 * done) / Math.max(metadata.size, 1), `Decrypting ${name}@${version}`),
      });
      result = { path: target, size, decrypted: true };
    } finally {
      await fsp.rm(sealed, { force: true });
    }
  }
  registry.recordDownload(name, version);
  return result;
}

const headerWindow = 64 * 1024;

/** Fetches only the header and tries the key on it, so a wrong passphrase is told before gigabytes are copied. */
async function checkKeyOnHeader(registry: RegistryService, metadata: PackageVersionMetadata, scratch: string, unlock: Pick<DecryptOptions, 'passphrase' | 'identities'>, encryptor: PackageEncryptor): Promise<void> {
  const headFile = `${scratch}.head`;
  try {
    const { stream } = await registry.openDownload(metadata.name, metadata.version, { start: 0, end: Math.min(metadata.size, headerWindow) - 1 });
    await pipeline(stream, createWriteStream(headFile, { flags: 'wx', mode: 0o600 }));
    await encryptor.checkUnlock(headFile, unlock);
  } finally {
    await fsp.rm(headFile, { force: true });
  }
}

/** `.torshenc` for our AES format, `.age` for age files (which `age -d` opens as they are). */
function encryptedSuffix(encryption: VersionEncryption): string {
  return encryption.algorithm === 'aes-256-gcm' ? '.torshenc' : '.age';
}

/** Checks the key material against how the version is locked before a byte is downloaded. */
function unlockFor(label: string, encryption: VersionEncryption | null, decrypt: ExportDecryption): Pick<DecryptOptions, 'passphrase' | 'identities'> {
  if (!encryption) throw new DepotError('VALIDATION_FAILED', `${label} is not encrypted: save it without a passphrase or identity.`, { reason: 'not-encrypted' });
  if ('passphrase' in decrypt) {
    if (encryption.unlock === 'recipients') throw new DepotError('VALIDATION_FAILED', `${label} is encrypted to age recipients: give an identity (AGE-SECRET-KEY-1…), not a passphrase.`, { reason: 'identity-required' });
    return { passphrase: decrypt.passphrase };
  }
  if (encryption.unlock === 'passphrase') throw new DepotError('VALIDATION_FAILED', `${label} is encrypted with a passphrase: give the passphrase, not an identity.`, { reason: 'passphrase-required' });
  return { identities: parseAgeIdentities(decrypt.identity) };
}

/** Streams a blob into `target` through a temp file beside it; `share` is this step's part of the job's progress. */
async function downloadAtomically(stream: Readable, target: string, metadata: PackageVersionMetadata, context: JobContext, share: number): Promise<number> {
  const temp = tempPathFor(target);
  const label = `Saving ${metadata.name}@${metadata.version}`;
  let copied = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      copied += chunk.length;
      context.reportProgress((share * copied) / Math.max(metadata.size, 1), label);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(stream, meter, createWriteStream(temp, { flags: 'wx' }), { signal: context.signal });
    const handle = await fsp.open(temp, 'r+');
    await handle.sync().finally(() => handle.close());
    await fsp.rename(temp, target);
    await fsyncDirectory(path.dirname(target));
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  }
  return copied;
}
