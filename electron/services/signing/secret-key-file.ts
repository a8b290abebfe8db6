import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DepotError } from '../../../shared/errors';
import { defaultScryptParams, scryptKey, type ScryptParams } from '../encryption/scrypt-kdf';
import { formatKeyId, publicKeyOfSeed, type SigningKeyPair } from './ed25519-keys';

/*
 * Our secret key file (documented in docs/formats/signing.md): a minisign-style text file whose base64 line is
 *   "TDSK" | version 1 | kdf (0 none, 1 scrypt) | log2N | r | p | salt[16] | nonce[12] | key id[8] | public key[32]
 *   | AES-256-GCM(seed[32]) | tag[16]
 * with everything before the ciphertext as associated data, so no field can be changed unnoticed.
 * Without a passphrase the key is all zeroes: the tag then only detects corruption.
 */
const magic = Buffer.from('TDSK');
const formatVersion = 1;
const headerLength = 4 + 1 + 1 + 3 + 16 + 12 + 8 + 32;
const fileLength = headerLength + 32 + 16;
const kdfNone = 0;
const kdfScrypt = 1;

export async function encodeSecretKeyFile(pair: SigningKeyPair, passphrase: string | null, params: ScryptParams = defaultScryptParams): Promise<string> {
  if (passphrase !== null && passphrase.length === 0) throw new DepotError('VALIDATION_FAILED', 'The passphrase is empty.', { reason: 'empty-passphrase' });
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const header = Buffer.concat([
    magic,
    Buffer.from([formatVersion, passphrase === null ? kdfNone : kdfScrypt, params.log2N, params.r, params.p]),
    salt,
    nonce,
    pair.keyId,
    pair.publicKey,
  ]);
  const key = passphrase === null ? Buffer.alloc(32) : await scryptKey(passphrase, salt, params);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(header);
  const sealed = Buffer.concat([header, cipher.update(pair.seed), cipher.final(), cipher.getAuthTag()]);
  return `untrusted comment: torsh-depot secret key ${formatKeyId(pair.keyId)}${passphrase === null ? ' (not passphrase-protected)' : ''}\n${sealed.toString('base64')}\n`;
}

/** True when the file needs a passphrase (so callers ask for one only then). */
export function secretKeyNeedsPassphrase(text: string): boolean {
  return parse(text).header[5] === kdfScrypt;
}

export async function decodeSecretKeyFile(text: string, passphrase: string | null): Promise<SigningKeyPair> {
  const { bytes, header } = parse(text);
  const kdf = header[5];
  const params: ScryptParams = { log2N: header[6] ?? 0, r: header[7] ?? 0, p: header[8] ?? 0 };
  const salt = header.subarray(9, 25);
  const nonce = header.subarray(25, 37);
  const keyId = Buffer.from(header.subarray(37, 45));
  const publicKey = Buffer.from(header.subarray(45, 77));
  if (kdf === kdfScrypt && (passphrase === null || passphrase === '')) {
    throw new DepotError('VALIDATION_FAILED', 'This secret key is passphrase-protected: give --passphrase-file or set TORSH_DEPOT_KEY_PASSPHRASE.', { reason: 'passphrase-required' });
  }
  const key = kdf === kdfScrypt ? await scryptKey(passphrase ?? '', salt, params) : Buffer.alloc(32);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(header);
  decipher.setAuthTag(bytes.subarray(headerLength + 32));
  let seed: Buffer;
  try {
    seed = Buffer.concat([decipher.update(bytes.subarray(headerLength, headerLength + 32)), decipher.final()]);
  } catch {
    throw new DepotError('UNAUTHORIZED', kdf === kdfScrypt ? 'Wrong passphrase for the secret key (or the key file is corrupt).' : 'The secret key file is corrupt.', { reason: 'bad-passphrase' });
  }
  if (!publicKeyOfSeed(seed).equals(publicKey)) throw new DepotError('VALIDATION_FAILED', 'The secret key file is corrupt (its halves do not match).', { reason: 'bad-secret-key' });
  return { keyId, seed, publicKey };
}

function parse(text: string): { bytes: Buffer; header: Buffer } {
  const line = text.replace(/\r\n/g, '\n').split('\n').find((candidate) => candidate.trim() !== '' && !candidate.startsWith('untrusted comment:'));
  const bytes = Buffer.from((line ?? '').trim(), 'base64');
  if (bytes.length !== fileLength || !bytes.subarray(0, 4).equals(magic)) {
    throw new DepotError('VALIDATION_FAILED', 'Not a torsh-depot secret key file.', { reason: 'bad-secret-key' });
  }
  if (bytes[4] !== formatVersion) throw new DepotError('VALIDATION_FAILED', `Unsupported secret key file version ${bytes[4] ?? '?'}.`, { reason: 'bad-secret-key' });
  const kdf = bytes[5];
  if (kdf !== kdfNone && kdf !== kdfScrypt) throw new DepotError('VALIDATION_FAILED', 'Unknown key derivation in the secret key file.', { reason: 'bad-secret-key' });
  return { bytes, header: bytes.subarray(0, headerLength) };
}
