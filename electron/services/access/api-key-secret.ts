import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Keys are 256 random bits, so one SHA-256 is a sound at-rest hash; only the hash is kept. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): string {
  return `tdk_${randomBytes(32).toString('base64url')}`;
}

/**
 * What may be shown of a key after creation: enough to recognise it, useless to use it. Generated
 * keys show 8 of their 43 random characters; a chosen key (TORSH_DEPOT_ADMIN_KEY) only 4.
 */
export function apiKeyPrefix(key: string): string {
  return key.startsWith('tdk_') ? key.slice(0, 12) : key.slice(0, 4);
}

/** Constant-time comparison of two hex hashes of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
