import { DepotError } from '../../../shared/errors';

/** Plaintext bytes per segment: 64 KiB, as in age's STREAM construction. */
export const segmentSize = 64 * 1024;
export const tagLength = 16;

export type SegmentAlgorithm = 'aes-256-gcm' | 'chacha20-poly1305';

export interface SegmentKey {
  algorithm: SegmentAlgorithm;
  key: Buffer;
  /** XORed with (11-byte big-endian counter ‖ last-segment flag); all zeroes for age. */
  baseNonce: Buffer;
}

/** nonce = base ⊕ (counter as 11 bytes big-endian ‖ 0x01 on the last segment, else 0x00). */
export function segmentNonce(baseNonce: Buffer, counter: number, last: boolean): Buffer {
  const nonce = Buffer.from(baseNonce);
  // The counter fits in 53 bits here; bytes 0-2 of the 11-byte field stay zero.
  const high = Math.floor(counter / 2 ** 32);
  const low = counter >>> 0;
  nonce.writeUInt32BE((nonce.readUInt32BE(3) ^ high) >>> 0, 3);
  nonce.writeUInt32BE((nonce.readUInt32BE(7) ^ low) >>> 0, 7);
  nonce[11] = (nonce[11] ?? 0) ^ (last ? 1 : 0);
  return nonce;
}

export function tamperedError(detail: string): DepotError {
  return new DepotError('DIGEST_MISMATCH', `The encrypted file is damaged or was tampered with: ${detail}.`, { reason: 'ciphertext-tampered' });
}
