import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { DepotError } from '../../../shared/errors';
import { defaultScryptParams, scryptKey, type ScryptParams } from './scrypt-kdf';

/*
 * Header of our AES-256-GCM stream format (docs/formats/encryption.md), 102 bytes:
 *   0  magic "TORSHENC"      8   version (1)     9  algorithm (1 = AES-256-GCM)   10 kdf (1 = scrypt)
 *   11 log2 N   12 r   13 p  14 salt[16]        30 base nonce[12]                42 wrap nonce[12]
 *   54 file key[32] sealed with AES-256-GCM under scrypt(passphrase, salt), bytes 0-53 as associated data
 *   86 its tag[16]
 */
export const aesMagic = Buffer.from('TORSHENC');
export const aesHeaderLength = 102;
const formatVersion = 1;
const algorithmAesGcm = 1;
const kdfScrypt = 1;
const authenticatedLength = 54;

export interface AesFileKeys {
  header: Buffer;
  fileKey: Buffer;
  baseNonce: Buffer;
}

export async function buildAesHeader(passphrase: string, params: ScryptParams = defaultScryptParams): Promise<AesFileKeys> {
  const salt = randomBytes(16);
  const baseNonce = randomBytes(12);
  const wrapNonce = randomBytes(12);
  const fileKey = randomBytes(32);
  const prefix = Buffer.concat([aesMagic, Buffer.from([formatVersion, algorithmAesGcm, kdfScrypt, params.log2N, params.r, params.p]), salt, baseNonce, wrapNonce]);
  const cipher = createCipheriv('aes-256-gcm', await scryptKey(passphrase, salt, params), wrapNonce);
  cipher.setAAD(prefix);
  const header = Buffer.concat([prefix, cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
  return { header, fileKey, baseNonce };
}

export async function isAesFile(handle: FileHandle): Promise<boolean> {
  const magic = Buffer.alloc(aesMagic.length);
  const { bytesRead } = await handle.read(magic, 0, magic.length, 0);
  return bytesRead === magic.length && magic.equals(aesMagic);
}

/** Reads and checks the header's fixed fields (no key needed); throws for a truncated or unknown header. */
export async function readAesHeader(handle: FileHandle): Promise<Buffer> {
  const header = Buffer.alloc(aesHeaderLength);
  const { bytesRead } = await handle.read(header, 0, aesHeaderLength, 0);
  if (bytesRead < aesHeaderLength || !header.subarray(0, 8).equals(aesMagic)) {
    throw new DepotError('VALIDATION_FAILED', 'Not a torsh-depot AES-256-GCM file (bad magic or truncated header).', { reason: 'bad-encryption-header' });
  }
  if (header[8] !== formatVersion || header[9] !== algorithmAesGcm || header[10] !== kdfScrypt) {
    throw new DepotError('VALIDATION_FAILED', `Unsupported encrypted file (version ${header[8] ?? '?'}, algorithm ${header[9] ?? '?'}, kdf ${header[10] ?? '?'}).`, { reason: 'bad-encryption-header' });
  }
  return header;
}

/** The scrypt parameters a header names (checked by scryptKey before any work). */
export function aesScryptParams(header: Buffer): ScryptParams {
  return { log2N: header[11] ?? 0, r: header[12] ?? 0, p: header[13] ?? 0 };
}

export async function openAesHeader(handle: FileHandle, passphrase: string): Promise<AesFileKeys> {
  const header = await readAesHeader(handle);
  const params = aesScryptParams(header);
  const salt = header.subarray(14, 30);
  const baseNonce = Buffer.from(header.subarray(30, 42));
  const wrapNonce = header.subarray(42, 54);
  const decipher = createDecipheriv('aes-256-gcm', await scryptKey(passphrase, salt, params), wrapNonce);
  decipher.setAAD(header.subarray(0, authenticatedLength));
  decipher.setAuthTag(header.subarray(86, 102));
  try {
    const fileKey = Buffer.concat([decipher.update(header.subarray(54, 86)), decipher.final()]);
    return { header, fileKey, baseNonce };
  } catch {
    throw new DepotError('UNAUTHORIZED', 'Wrong passphrase (or the file header is damaged).', { reason: 'bad-passphrase' });
  }
}
