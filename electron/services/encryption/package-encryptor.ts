import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DepotError } from '../../../shared/errors';
import { fsyncDirectory, tempPathFor } from '../fs/atomic-write';
import { buildAgeHeader, defaultAgeScryptLog2N, payloadKey, readAgeHeader, scryptStanzaOf, unlockAgeHeader, type AgeRecipient } from './age-header';
import { aesScryptParams, buildAesHeader, isAesFile, openAesHeader, readAesHeader } from './aes-gcm-header';
import { assertScryptParams, defaultScryptParams, type ScryptParams } from './scrypt-kdf';
import { tagLength, type SegmentKey } from './segment-stream';
import { runSegments } from './segment-file';
import { parseAgeRecipient, type AgeIdentity } from './x25519-keys';
import type { EncryptionAlgorithm, VersionEncryption } from '../../../shared/domain/encryption';

export { encryptionAlgorithms, type EncryptionAlgorithm } from '../../../shared/domain/encryption';

export interface EncryptOptions {
  /** `aes-256-gcm` (default, our format) or `chacha20-poly1305` (a standard age v1 file). Recipients imply age. */
  algorithm?: EncryptionAlgorithm;
  passphrase?: string;
  /** age X25519 recipients (`age1…`): anyone may encrypt, only the identity holder can decrypt. */
  recipients?: string[];
  signal?: AbortSignal;
  onProgress?: (bytesDone: number) => void;
}

export interface DecryptOptions {
  passphrase?: string;
  identities?: AgeIdentity[];
  signal?: AbortSignal;
  onProgress?: (bytesDone: number) => void;
}

export interface EncryptorTuning {
  /** KDF cost of our AES format (tests lower it). */
  scryptParams?: ScryptParams;
  /** age's scrypt work factor (log2 N; age uses 18). */
  ageScryptLog2N?: number;
}


/**
 * Encrypts and decrypts whole files as streams (memory stays bounded by a few segments), writing to a temp
 * file that is renamed into place only after the last segment is written — or, when decrypting, authenticated.
 */
export class PackageEncryptor {
  private readonly scryptParams: ScryptParams;
  private readonly ageScryptLog2N: number;

  constructor(tuning: EncryptorTuning = {}) {
    this.scryptParams = tuning.scryptParams ?? defaultScryptParams;
    this.ageScryptLog2N = tuning.ageScryptLog2N ?? defaultAgeScryptLog2N;
  }

  async encryptFile(input: string, output: string, options: EncryptOptions): Promise<{ size: number; algorithm: EncryptionAlgorithm }> {
    const recipients = options.recipients ?? [];
    const algorithm: EncryptionAlgorithm = recipients.length > 0 ? 'chacha20-poly1305' : (options.algorithm ?? 'aes-256-gcm');
    if (recipients.length > 0 && options.algorithm === 'aes-256-gcm') {
      throw new DepotError('VALIDATION_FAILED', 'Recipients (age1…) need the age format: use chacha20-poly1305.', { reason: 'recipient-needs-age' });
    }
    if (recipients.length > 0 && options.passphrase !== undefined) throw new DepotError('VALIDATION_FAILED', 'Give either a passphrase or recipients, not both.', { reason: 'passphrase-and-recipients' });
    if (recipients.length === 0 && (options.passphrase === undefined || options.passphrase === '')) {
      throw new DepotError('VALIDATION_FAILED', 'A non-empty passphrase or at least one recipient is required.', { reason: 'no-passphrase' });
    }
    const parsedRecipients = recipients.map(parseAgeRecipient);
    await assertReadableFile(input);
    let prefix: Buffer;
    let segmentKey: SegmentKey;
    if (algorithm === 'aes-256-gcm') {
      const { header, fileKey, baseNonce } = await buildAesHeader(options.passphrase ?? '', this.scryptParams);
      prefix = header;
      segmentKey = { algorithm, key: fileKey, baseNonce };
    } else {
      const fileKey = randomBytes(16);
      const ageRecipients: AgeRecipient[] =
        parsedRecipients.length > 0
          ? parsedRecipients.map((publicKey) => ({ kind: 'x25519', publicKey }))
          : [{ kind: 'scrypt', passphrase: options.passphrase ?? '', log2N: this.ageScryptLog2N }];
      const nonce = randomBytes(16);
      prefix = Buffer.concat([await buildAgeHeader(fileKey, ageRecipients), nonce]);
      segmentKey = { algorithm, key: payloadKey(fileKey, nonce), baseNonce: Buffer.alloc(12) };
    }
    const size = await writeAtomically(output, 0o644, async (sink) => {
      await sink.write(prefix, 0, prefix.length, 0);
      return prefix.length + (await withInput(input, (source) => runSegments('seal', { input: source, inputOffset: 0, output: sink, outputOffset: prefix.length, key: segmentKey, signal: options.signal, onProgress: options.onProgress })));
    });
    return { size, algorithm };
  }

  async decryptFile(input: string, output: string, options: DecryptOptions): Promise<{ size: number; algorithm: EncryptionAlgorithm }> {
    const { segmentKey, payloadOffset } = await this.unlock(input, options);
    const size = await writeAtomically(output, 0o600, (sink) =>
      withInput(input, (source) => runSegments('open', { input: source, inputOffset: payloadOffset, output: sink, outputOffset: 0, key: segmentKey, signal: options.signal, onProgress: options.onProgress })),
    );
    return { size, algorithm: segmentKey.algorithm };
  }

  /**
   * What an encrypted file is, from its header alone (no key needed): our AES-256-GCM format (passphrase),
   * or age with scrypt (passphrase) or X25519 (recipients) stanzas. Anything else is refused as malformed.
   */
  async describeFile(input: string): Promise<VersionEncryption> {
    await assertReadableFile(input);
    return withInput(input, async (handle) => {
      const { size } = await handle.stat();
      // At least a header, (for age) the payload nonce, and one sealed segment: its 16-byte tag.
      const truncated = (payloadStart: number): boolean => size < payloadStart + tagLength;
      const truncatedError = (): DepotError => new DepotError('VALIDATION_FAILED', 'The encrypted file ends before its first segment (truncated).', { reason: 'ciphertext-tampered' });
      if (await isAesFile(handle)) {
        const header = await readAesHeader(handle);
        if (truncated(header.length)) throw truncatedError();
        // A work factor no downloader could afford is refused here, not at everyone's decrypt.
        assertScryptParams(aesScryptParams(header));
        return { algorithm: 'aes-256-gcm', unlock: 'passphrase' };
      }
      const { stanzas, payloadOffset } = await readAgeHeader(handle);
      if (truncated(payloadOffset + 16)) throw truncatedError();
      const types = new Set(stanzas.map((stanza) => stanza.type));
      if (types.size === 1 && types.has('scrypt')) {
        scryptStanzaOf(stanzas);
        return { algorithm: 'chacha20-poly1305', unlock: 'passphrase' };
      }
      if (types.size === 1 && types.has('X25519')) return { algorithm: 'chacha20-poly1305', unlock: 'recipients' };
      throw new DepotError('VALIDATION_FAILED', `The age file's recipients (${[...types].join(', ')}) are not ones torsh-depot can open: use a passphrase or X25519 (age1…) recipients.`, { reason: 'unsupported-age-recipients' });
    });
  }

  /**
   * Checks that the passphrase or identities open a file's header, which may be just the file's first
   * bytes (64 KiB hold any header we or age write): a wrong key is found before a big file is fetched.
   */
  async checkUnlock(headerFile: string, options: DecryptOptions): Promise<void> {
    await this.unlock(headerFile, options);
  }

  private async unlock(input: string, options: DecryptOptions): Promise<{ segmentKey: SegmentKey; payloadOffset: number }> {
    await assertReadableFile(input);
    const handle = await fsp.open(input, 'r');
    let segmentKey: SegmentKey;
    let payloadOffset: number;
    try {
      if (await isAesFile(handle)) {
        if (options.passphrase === undefined) throw new DepotError('VALIDATION_FAILED', 'This file is encrypted with a passphrase (AES-256-GCM): use --passphrase-file.', { reason: 'passphrase-required' });
        const { header, fileKey, baseNonce } = await openAesHeader(handle, options.passphrase);
        segmentKey = { algorithm: 'aes-256-gcm', key: fileKey, baseNonce };
        payloadOffset = header.length;
      } else {
        const header = await readAgeHeader(handle);
        const unlock = options.passphrase !== undefined ? ({ kind: 'passphrase', passphrase: options.passphrase } as const) : ({ kind: 'identities', identities: options.identities ?? [] } as const);
        const fileKey = await unlockAgeHeader(header, unlock);
        const nonce = Buffer.alloc(16);
        const { bytesRead } = await handle.read(nonce, 0, 16, header.payloadOffset);
        if (bytesRead < 16) throw new DepotError('DIGEST_MISMATCH', 'The encrypted file is damaged or was tampered with: it ends inside the payload nonce (truncated).', { reason: 'ciphertext-tampered' });
        segmentKey = { algorithm: 'chacha20-poly1305', key: payloadKey(fileKey, nonce), baseNonce: Buffer.alloc(12) };
        payloadOffset = header.payloadOffset + 16;
      }
    } finally {
      await handle.close();
    }
    return { segmentKey, payloadOffset };
  }
}

async function assertReadableFile(file: string): Promise<void> {
  const stats = await fsp.stat(file).catch(() => null);
  if (!stats?.isFile()) throw new DepotError('NOT_FOUND', `${file} is not a readable file.`, { reason: 'no-input' });
}

async function withInput<T>(file: string, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  const handle = await fsp.open(file, 'r');
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}

/** Writes a temp file beside `target` through `write` (which returns the size); fsync + rename only when it succeeds, else the temp file goes. */
async function writeAtomically(target: string, mode: number, write: (sink: FileHandle) => Promise<number>): Promise<number> {
  const temp = tempPathFor(path.resolve(target));
  const sink = await fsp.open(temp, 'wx', mode);
  try {
    const size = await write(sink);
    await sink.sync();
    await sink.close();
    await fsp.rename(temp, target);
    await fsyncDirectory(path.dirname(path.resolve(target)));
    return size;
  } catch (error) {
    await sink.close().catch(() => undefined);
    await fsp.rm(temp, { force: true });
    throw error;
  }
}
