import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

// DER prefixes of PKCS#8 / SPKI for raw 32-byte Ed25519 keys (RFC 8410): Node imports raw keys only through these.
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

/** An Ed25519 key pair as raw bytes, plus the 8-byte key id minisign puts in every key and signature. */
export interface SigningKeyPair {
  keyId: Buffer;
  /** 32-byte seed (RFC 8032 private key). */
  seed: Buffer;
  publicKey: Buffer;
}

export interface SigningPublicKey {
  keyId: Buffer;
  publicKey: Buffer;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(pkcs8Prefix.length);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(spkiPrefix.length);
  return { keyId: randomBytes(8), seed: Buffer.from(seed), publicKey: Buffer.from(raw) };
}

export function privateKeyFromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' });
}

/** The raw public key belonging to a seed (to check a decrypted secret key against its stored public half). */
export function publicKeyOfSeed(seed: Buffer): Buffer {
  return Buffer.from(createPublicKey(privateKeyFromSeed(seed)).export({ format: 'der', type: 'spki' }).subarray(spkiPrefix.length));
}

export function ed25519Sign(seed: Buffer, message: Buffer): Buffer {
  return cryptoSign(null, message, privateKeyFromSeed(seed));
}

export function ed25519Verify(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  return cryptoVerify(null, message, publicKeyFromRaw(publicKey), signature);
}

/** How minisign prints a key id: the 8 bytes read as a little-endian integer, in upper-case hex. */
export function formatKeyId(keyId: Buffer): string {
  return Buffer.from(keyId).reverse().toString('hex').toUpperCase();
}

export function parseKeyId(text: string): Buffer | null {
  if (!/^[0-9A-Fa-f]{16}$/.test(text)) return null;
  return Buffer.from(text, 'hex').reverse();
}
