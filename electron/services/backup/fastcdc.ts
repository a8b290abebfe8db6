import { createHash } from 'node:crypto';
import { DepotError } from '../../../shared/errors';

/*
 * FastCDC (Xia et al., 2020): gear rolling hash, cut-point skipping below the minimum, normalized
 * chunking (level 1) and rolling two bytes per step. The gear table is the one the published test
 * vectors use: entry i is the first 8 bytes (big-endian) of MD5 of 64 bytes of value i. The 64-bit
 * hash is kept as two unsigned 32-bit halves, because BigInt arithmetic is far too slow here.
 */

export interface ChunkerParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
export const defaultChunkerParams: ChunkerParams = { minSize: 512 * KiB, avgSize: 1 * MiB, maxSize: 8 * MiB };

/** Mask per number of bits (spread bits, from the FastCDC reference); index = log2 of the average size ± normalization. */
const maskHex = [
  '0', '0', '0', '0', '0', '0000000001804110', '0000000001803110', '0000000018035100', '0000001800035300', '0000019000353000', '0000590003530000',
  '0000d90003530000', '0000d90103530000', '0000d90303530000', '0000d90313530000', '0000d90f03530000', '0000d90303537000', '0000d90703537000',
  '0000d90707537000', '0000d91707537000', '0000d91747537000', '0000d91767537000', '0000d93767537000', '0000d93777537000', '0000d93777577000', '0000db3777577000',
];

interface Mask64 {
  hi: number;
  lo: number;
}

function mask(bits: number): Mask64 {
  const hex = (maskHex[bits] ?? '0').padStart(16, '0');
  return { hi: Number.parseInt(hex.slice(0, 8), 16), lo: Number.parseInt(hex.slice(8), 16) };
}

function shiftLeft1(value: Mask64): Mask64 {
  return { hi: ((value.hi << 1) | (value.lo >>> 31)) >>> 0, lo: (value.lo << 1) >>> 0 };
}

const gearHi = new Int32Array(256);
const gearLo = new Int32Array(256);
const gearLsHi = new Int32Array(256);
const gearLsLo = new Int32Array(256);
for (let index = 0; index < 256; index += 1) {
  const digest = createHash('md5').update(Buffer.alloc(64, index)).digest();
  const hi = digest.readUInt32BE(0);
  const lo = digest.readUInt32BE(4);
  gearHi[index] = hi;
  gearLo[index] = lo;
  gearLsHi[index] = (hi << 1) | (lo >>> 31);
  gearLsLo[index] = lo << 1;
}

export const chunkerLimits = { minSize: [64, 16 * MiB], avgSize: [256, 16 * MiB], maxSize: [1024, 64 * MiB] } as const;

export function assertChunkerParams(params: ChunkerParams): void {
  const { minSize, avgSize, maxSize } = params;
  const within = (value: number, [low, high]: readonly [number, number]): boolean => Number.isInteger(value) && value >= low && value <= high;
  if (!within(minSize, chunkerLimits.minSize) || !within(avgSize, chunkerLimits.avgSize) || !within(maxSize, chunkerLimits.maxSize) || !(minSize <= avgSize && avgSize <= maxSize)) {
    throw new DepotError('VALIDATION_FAILED', `Invalid chunk sizes (min ${minSize}, avg ${avgSize}, max ${maxSize}): need 64 B ≤ min ≤ avg ≤ max ≤ 64 MiB.`, { reason: 'bad-chunker-params' });
  }
}

/** Rounded base-2 logarithm, as the reference computes the mask index from the average size. */
export function log2Rounded(value: number): number {
  return value <= 1 ? 0 : Math.round(Math.log2(value));
}

export interface CutResult {
  /** Length of the chunk from the start of the slice. */
  length: number;
  /** The gear hash at the cut, as an unsigned 64-bit value (for tests against published vectors). */
  hash: bigint;
}

/** The cut-point finder for one set of parameters. */
export class FastCdc {
  private readonly maskS: Mask64;
  private readonly maskL: Mask64;
  private readonly maskSLs: Mask64;
  private readonly maskLLs: Mask64;

  constructor(readonly params: ChunkerParams = defaultChunkerParams, normalization = 1) {
    assertChunkerParams(params);
    const bits = log2Rounded(params.avgSize);
    this.maskS = mask(bits + normalization);
    this.maskL = mask(bits - normalization);
    this.maskSLs = shiftLeft1(this.maskS);
    this.maskLLs = shiftLeft1(this.maskL);
  }

  /** The masks chosen for the average size (hi/lo halves), for tests. */
  masks(): { small: string; large: string } {
    const hex = (value: Mask64): string => value.hi.toString(16).padStart(8, '0') + value.lo.toString(16).padStart(8, '0');
    return { small: hex(this.maskS), large: hex(this.maskL) };
  }

  /** Finds the next cut in `source[start, end)`; when the slice is the end of the data, the last chunk may be short. */
  cut(input: Uint8Array, start: number, end: number): CutResult {
    const { minSize, avgSize, maxSize } = this.params;
    // A plain Uint8Array view: indexing a Buffer (a subclass) is about twice as slow in V8.
    const source = Object.getPrototypeOf(input) === Uint8Array.prototype ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    let remaining = end - start;
    if (remaining <= minSize) return { length: remaining, hash: 0n };
    let center = avgSize;
    if (remaining > maxSize) remaining = maxSize;
    else if (remaining < center) center = remaining;
    let index = minSize >>> 1;
    // Signed 32-bit halves stay small integers in V8's optimizing compiler (unsigned ones become doubles).
    let hi = 0;
    let lo = 0;
    let maskHiLs = this.maskSLs.hi | 0;
    let maskLoLs = this.maskSLs.lo | 0;
    let maskHi = this.maskS.hi | 0;
    let maskLo = this.maskS.lo | 0;
    let limit = center >>> 1;
    for (let phase = 0; phase < 2; phase += 1) {
      while (index < limit) {
        const a = start + index * 2;
        let byte = source[a] as number;
        // hash = (hash << 2) + GEAR_LS[byte]
        hi = (hi << 2) | (lo >>> 30);
        lo = lo << 2;
        let add = gearLsLo[byte] as number;
        lo = (lo + add) | 0;
        hi = (hi + (gearLsHi[byte] as number) + ((lo >>> 0) < (add >>> 0) ? 1 : 0)) | 0;
        if ((hi & maskHiLs) === 0 && (lo & maskLoLs) === 0) return { length: index * 2, hash: toBigInt(hi, lo) };
        byte = source[a + 1] as number;
        // hash = hash + GEAR[byte]
        add = gearLo[byte] as number;
        lo = (lo + add) | 0;
        hi = (hi + (gearHi[byte] as number) + ((lo >>> 0) < (add >>> 0) ? 1 : 0)) | 0;
        if ((hi & maskHi) === 0 && (lo & maskLo) === 0) return { length: index * 2 + 1, hash: toBigInt(hi, lo) };
        index += 1;
      }
      maskHiLs = this.maskLLs.hi | 0;
      maskLoLs = this.maskLLs.lo | 0;
      maskHi = this.maskL.hi | 0;
      maskLo = this.maskL.lo | 0;
      limit = remaining >>> 1;
    }
    return { length: remaining, hash: toBigInt(hi, lo) };
  }
}

function toBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * Splits a stream of buffers into content-defined chunks, holding at most about two maximum-size
 * chunks in memory. Chunks are views of buffers that are never written again (safe to keep).
 */
export async function* chunkStream(source: AsyncIterable<Buffer | Uint8Array | string>, chunker: FastCdc): AsyncGenerator<Buffer> {
  const { maxSize } = chunker.params;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    const bytes = typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    pending.push(bytes);
    pendingBytes += bytes.length;
    // Concatenate only every two maximum windows, so each byte is copied about twice.
    if (pendingBytes < 2 * maxSize) continue;
    const buffer = Buffer.concat(pending, pendingBytes);
    let offset = 0;
    // Cut only while a whole maximum-size window is available; otherwise more data could move the cut.
    while (buffer.length - offset >= maxSize) {
      const { length } = chunker.cut(buffer, offset, buffer.length);
      // A view, not a copy: the window is a fresh buffer of its own that nothing writes to again.
      yield buffer.subarray(offset, offset + length);
      offset += length;
    }
    pending = offset < buffer.length ? [buffer.subarray(offset)] : [];
    pendingBytes = buffer.length - offset;
  }
  const buffer = Buffer.concat(pending, pendingBytes);
  let offset = 0;
  while (offset < buffer.length) {
    const { length } = chunker.cut(buffer, offset, buffer.length);
    yield buffer.subarray(offset, offset + length);
    offset += length;
  }
}

/** The part of a file handle that `chunkFileRange` reads through. */
export interface PositionalReader {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/**
 * The same chunks as `chunkStream` over `[start, end)` of a file, read straight into windows of two
 * maximum chunk sizes: only the short tail left after the last whole cut is copied into the next
 * window (the stream version copies every byte about twice). Chunks are views of windows that are
 * never written again (safe to keep).
 */
export async function* chunkFileRange(file: PositionalReader, start: number, end: number, chunker: FastCdc, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const { maxSize } = chunker.params;
  let tail: Buffer = Buffer.alloc(0);
  let position = start;
  for (;;) {
    signal?.throwIfAborted();
    const size = Math.min(2 * maxSize, tail.length + (end - position));
    if (size === 0) return;
    const window = Buffer.allocUnsafeSlow(size);
    tail.copy(window, 0);
    let filled = tail.length;
    while (filled < size) {
      const { bytesRead } = await file.read(window, filled, size - filled, position);
      if (bytesRead === 0) throw new DepotError('CONFLICT', 'The file became shorter while it was backed up.', { reason: 'file-changed' });
      filled += bytesRead;
      position += bytesRead;
    }
    const last = position >= end;
    let offset = 0;
    // Cut only while a whole maximum-size window is available, unless this is the end of the range.
    while (last ? offset < size : size - offset >= maxSize) {
      const { length } = chunker.cut(window, offset, size);
      yield window.subarray(offset, offset + length);
      offset += length;
    }
    if (last) return;
    tail = window.subarray(offset);
  }
}
