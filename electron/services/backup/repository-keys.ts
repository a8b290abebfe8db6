import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DepotError } from '../../../shared/errors';
import { assertScryptParams, defaultScryptParams, scryptKey, type ScryptParams } from '../encryption/scrypt-kdf';

/**
 * The repository's secrets. `idKey` keys the chunk ids (HMAC-SHA256), `metaKey` seals indexes and
 * snapshots, `dataKey` seals chunk data. In write-only mode there is no `dataKey`: chunk data is
 * sealed to age X25519 recipients, so a writer holding this key file can add backups but not read them.
 */
export interface RepositoryKeys {
  idKey: Buffer;
  metaKey: Buffer;
  dataKey: Buffer | null;
}

const keyFileSchema = z.object({
  version: z.literal(1),
  created: z.string(),
  kdf: z.object({ name: z.literal('scrypt'), log2N: z.number().int(), r: z.number().int(), p: z.number().int(), salt: z.string() }),
  nonce: z.string(),
  sealed: z.string(),
});
export type KeyFile = z.infer<typeof keyFileSchema>;

const secretsSchema = z.object({ idKey: z.string(), metaKey: z.string(), dataKey: z.string().nullable() });
const keyFileLabel = Buffer.from('torsh-backup key v1');

export function generateRepositoryKeys(writeOnly: boolean): RepositoryKeys {
  return { idKey: randomBytes(32), metaKey: randomBytes(32), dataKey: writeOnly ? null : randomBytes(32) };
}

export async function sealKeyFile(keys: RepositoryKeys, passphrase: string, params: ScryptParams = defaultScryptParams): Promise<KeyFile> {
  assertScryptParams(params);
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await scryptKey(passphrase, salt, params), nonce);
  cipher.setAAD(keyFileLabel);
  const plain = Buffer.from(JSON.stringify({ idKey: keys.idKey.toString('base64'), metaKey: keys.metaKey.toString('base64'), dataKey: keys.dataKey?.toString('base64') ?? null }));
  const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return { version: 1, created: new Date().toISOString(), kdf: { name: 'scrypt', ...params, salt: salt.toString('base64') }, nonce: nonce.toString('base64'), sealed: sealed.toString('base64') };
}

export function parseKeyFile(bytes: Buffer): KeyFile {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new DepotError('VALIDATION_FAILED', 'A repository key file is not JSON.', { reason: 'bad-key-file' });
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success) throw new DepotError('VALIDATION_FAILED', 'A repository key file has an unknown shape (written by a newer version?).', { reason: 'bad-key-file' });
  return parsed.data;
}

/** Null when the passphrase does not open this key file. */
export async function openKeyFile(file: KeyFile, passphrase: string): Promise<RepositoryKeys | null> {
  const params: ScryptParams = { log2N: file.kdf.log2N, r: file.kdf.r, p: file.kdf.p };
  const key = await scryptKey(passphrase, Buffer.from(file.kdf.salt, 'base64'), params);
  const sealed = Buffer.from(file.sealed, 'base64');
  if (sealed.length < 16) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(file.nonce, 'base64'));
  decipher.setAAD(keyFileLabel);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  } catch {
    return null;
  }
  const secrets = secretsSchema.parse(JSON.parse(plain.toString('utf8')));
  return { idKey: Buffer.from(secrets.idKey, 'base64'), metaKey: Buffer.from(secrets.metaKey, 'base64'), dataKey: secrets.dataKey === null ? null : Buffer.from(secrets.dataKey, 'base64') };
}

/** The keyed chunk id: the storage provider learns nothing about contents from it. */
export function chunkIdOf(idKey: Buffer, raw: Buffer): string {
  return createHmac('sha256', idKey).update(raw).digest('hex');
}

/** AES-256-GCM with a random nonce: nonce(12) ‖ ciphertext ‖ tag(16); `label` is authenticated (an index cannot pass for a snapshot). */
export function sealWith(key: Buffer, plain: Buffer, label: string | Buffer): Buffer {
  return Buffer.concat(sealParts(key, [plain], label));
}

/** `sealWith` over several plaintext pieces, returned as pieces (no copy of large data). */
export function sealParts(key: Buffer, plain: Buffer[], label: string | Buffer): Buffer[] {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(typeof label === 'string' ? Buffer.from(label) : label);
  const parts = [nonce];
  for (const piece of plain) parts.push(cipher.update(piece));
  parts.push(cipher.final(), cipher.getAuthTag());
  return parts;
}

/** Throws DIGEST_MISMATCH (reason `object-corrupt`) when the bytes were changed. */
export function openWith(key: Buffer, sealed: Buffer, label: string | Buffer, what: string): Buffer {
  if (sealed.length < 28) throw new DepotError('DIGEST_MISMATCH', `${what} is truncated.`, { reason: 'object-corrupt' });
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(typeof label === 'string' ? Buffer.from(label) : label);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    // AES-GCM is a stream cipher: `final` only checks the tag and returns nothing, so no copy is needed.
    const plain = decipher.update(sealed.subarray(12, sealed.length - 16));
    const rest = decipher.final();
    return rest.length === 0 ? plain : Buffer.concat([plain, rest]);
  } catch {
    throw new DepotError('DIGEST_MISMATCH', `${what} is damaged or was tampered with (authentication failed).`, { reason: 'object-corrupt' });
  }
}
