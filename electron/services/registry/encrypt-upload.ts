import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { PublishEncryption, VersionEncryption } from '../../../shared/domain/encryption';
import type { PackageEncryptor } from '../encryption/package-encryptor';
import { hashFileHead } from '../registry-client/sha256-digest';
import type { ReceivedUpload } from './upload-receiver';

/**
 * Encrypts a verified upload into a sibling temp file and hashes the ciphertext as written on disk (what
 * the blob store keeps and downloads verify). The caller owns the returned temp file; on failure or
 * cancel nothing is left.
 */
export async function encryptUpload(
  encryptor: PackageEncryptor,
  upload: ReceivedUpload,
  encrypt: PublishEncryption,
  options: { signal?: AbortSignal | undefined; onProgress?: (fraction: number) => void },
): Promise<{ sealed: ReceivedUpload; encryption: VersionEncryption }> {
  const sealedPath = path.join(path.dirname(upload.tempPath), `sealed-${randomBytes(8).toString('hex')}.part`);
  const unlock = 'recipients' in encrypt ? ({ recipients: encrypt.recipients } as const) : ({ algorithm: encrypt.algorithm, passphrase: encrypt.passphrase } as const);
  try {
    const { size, algorithm } = await encryptor.encryptFile(upload.tempPath, sealedPath, {
      ...unlock,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (done) => options.onProgress?.((0.9 * done) / Math.max(upload.size, 1)),
    });
    const handle = await fsp.open(sealedPath, 'r');
    const hash = await hashFileHead(handle, size, options.signal).finally(() => handle.close());
    options.signal?.throwIfAborted();
    options.onProgress?.(1);
    return {
      sealed: { tempPath: sealedPath, digestHex: hash.digest('hex'), size },
      encryption: { algorithm, unlock: 'recipients' in encrypt ? 'recipients' : 'passphrase' },
    };
  } catch (error) {
    await fsp.rm(sealedPath, { force: true });
    throw error;
  }
}
