import { promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import type { BlobStore } from '../blobs/blob-store';
import { receiveUpload } from '../registry/upload-receiver';

/**
 * Puts bytes read elsewhere (a replica) back into the blob store: streamed to a temp file while
 * hashed, stored only when the SHA-256 is the one asked for. Read repair and rebuilds use it.
 */
export async function restoreBlob(blobs: BlobStore, tmpDir: string, digestHex: string, open: () => Promise<Readable>, options: { keepExisting?: boolean } = {}): Promise<{ size: number }> {
  const received = await receiveUpload(await open(), { tmpDir, maxBytes: Number.MAX_SAFE_INTEGER, name: 'restore' });
  try {
    if (received.digestHex !== digestHex) throw new DepotError('DIGEST_MISMATCH', `The copy of ${digestHex} reads as ${received.digestHex}; not stored.`);
    if (options.keepExisting && (await blobs.has(digestHex))) return { size: received.size };
    await blobs.delete(digestHex);
    await blobs.storeFile(digestHex, received.tempPath, received.size);
    return { size: received.size };
  } finally {
    await fsp.rm(received.tempPath, { force: true });
  }
}
