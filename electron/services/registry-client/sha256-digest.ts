import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { DepotError } from '../../../shared/errors';

const digestPattern = /^(?:sha256:)?([0-9a-f]{64})$/i;

/** `sha256:<hex>` from either `sha256:<hex>` or bare hex; null when it is neither. */
export function parseDigest(text: string): string | null {
  const match = digestPattern.exec(text.trim());
  return match?.[1] ? `sha256:${match[1].toLowerCase()}` : null;
}

export function requireDigest(text: string, what: string): string {
  const digest = parseDigest(text);
  if (!digest) throw new DepotError('VALIDATION_FAILED', `${what} "${text.slice(0, 100)}" is not a sha256 digest.`);
  return digest;
}

/** The digest inside an ETag such as `"sha256:<hex>"` (weak tags do not name exact bytes). */
export function digestFromEtag(etag: string | null): string | null {
  if (!etag || etag.startsWith('W/')) return null;
  return parseDigest(etag.replace(/^"|"$/g, ''));
}

/** Hashes the first `length` bytes of an open file: a resumed download's hash must cover what is already on disk. */
export async function hashFileHead(handle: FileHandle, length: number, signal?: AbortSignal): Promise<Hash> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  let position = 0;
  while (position < length) {
    if (signal?.aborted) break;
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash;
}
