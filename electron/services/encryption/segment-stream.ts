import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
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

const aeadOptions = { authTagLength: tagLength };

/** Seals plaintext into segments. A full segment is held back until more bytes prove it is not the last. */
export class SegmentSealer extends Transform {
  private readonly pending = Buffer.allocUnsafe(segmentSize);
  private filled = 0;
  private counter = 0;

  constructor(private readonly segmentKey: SegmentKey) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.filled === segmentSize) {
        this.seal(this.pending, false);
        this.filled = 0;
      }
      const copied = chunk.copy(this.pending, this.filled, offset, Math.min(chunk.length, offset + segmentSize - this.filled));
      this.filled += copied;
      offset += copied;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.seal(this.pending.subarray(0, this.filled), true);
    callback();
  }

  /** One chunk per segment (ciphertext ‖ tag): a separate 16-byte tag chunk would cost a write of its own. */
  private seal(plaintext: Buffer, last: boolean): void {
    const { algorithm, key, baseNonce } = this.segmentKey;
    const cipher = createCipheriv(algorithm as CipherGCMTypes, key, segmentNonce(baseNonce, this.counter, last), aeadOptions);
    this.counter += 1;
    const body = cipher.update(plaintext);
    cipher.final();
    this.push(Buffer.concat([body, cipher.getAuthTag()]));
  }
}

export function tamperedError(detail: string): DepotError {
  return new DepotError('DIGEST_MISMATCH', `The encrypted file is damaged or was tampered with: ${detail}.`, { reason: 'ciphertext-tampered' });
}

/** Opens segments; fails on any altered, reordered, missing or appended segment. */
export class SegmentOpener extends Transform {
  private readonly pending = Buffer.allocUnsafe(segmentSize + tagLength);
  private filled = 0;
  private counter = 0;

  constructor(private readonly segmentKey: SegmentKey) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let offset = 0;
      while (offset < chunk.length) {
        if (this.filled === this.pending.length) {
          this.push(this.open(this.pending, false));
          this.filled = 0;
        }
        const copied = chunk.copy(this.pending, this.filled, offset, Math.min(chunk.length, offset + this.pending.length - this.filled));
        this.filled += copied;
        offset += copied;
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.filled < tagLength) throw tamperedError('it ends before its final segment (truncated)');
      const plaintext = this.open(this.pending.subarray(0, this.filled), true);
      if (plaintext.length === 0 && this.counter > 1) throw tamperedError('the final segment is empty');
      this.push(plaintext);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private open(sealed: Buffer, last: boolean): Buffer {
    const { algorithm, key, baseNonce } = this.segmentKey;
    const decipher = createDecipheriv(algorithm as CipherGCMTypes, key, segmentNonce(baseNonce, this.counter, last), aeadOptions);
    decipher.setAuthTag(sealed.subarray(sealed.length - tagLength));
    const body = decipher.update(sealed.subarray(0, sealed.length - tagLength));
    try {
      decipher.final();
    } catch {
      throw tamperedError(last ? `segment ${this.counter} does not authenticate as the final one (altered, truncated or extended)` : `segment ${this.counter} does not authenticate`);
    }
    this.counter += 1;
    return body;
  }
}
