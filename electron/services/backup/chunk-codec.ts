import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants as zlibConstants } from 'node:zlib';
import { compress as compressZstd, decompress as decompressZstd } from '@mongodb-js/zstd';
import { DepotError } from '../../../shared/errors';

const compressBrotli = promisify(brotliCompress);
const decompressBrotli = promisify(brotliDecompress);

/**
 * Codec ids recorded per chunk (in the index and inside each sealed blob). 0 = stored as is;
 * 1 = brotli (repositories made before zstd; still read); 2 = zstd (the default).
 */
export const codecIds = { none: 0, brotli: 1, zstd: 2 } as const;
export type CodecName = keyof typeof codecIds;
export type CodecId = (typeof codecIds)[CodecName];

export interface CompressionSettings {
  codec: CodecName;
  /** zstd level 1–19, brotli quality 0–11. */
  level: number;
}

export const defaultCompression: CompressionSettings = { codec: 'zstd', level: 3 };

export const compressionLevels: Record<CodecName, { min: number; max: number }> = { none: { min: 0, max: 0 }, brotli: { min: 0, max: 11 }, zstd: { min: 1, max: 19 } };

export function assertCompression(settings: CompressionSettings): void {
  const range = compressionLevels[settings.codec];
  if (settings.codec !== 'none' && (settings.level < range.min || settings.level > range.max || !Number.isInteger(settings.level))) {
    throw new DepotError('VALIDATION_FAILED', `${settings.codec} level must be a whole number from ${range.min} to ${range.max}, got ${settings.level}.`, { reason: 'bad-compression-level' });
  }
}

/** Compress only when it saves at least this fraction: tensors of floats rarely compress. */
const minSaving = 1 / 16;

export interface EncodedChunk {
  codec: CodecId;
  bytes: Buffer;
}

const sampleBytes = 32 * 1024;

function brotli(bytes: Buffer, level: number): Promise<Buffer> {
  return compressBrotli(bytes, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: level, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length, [zlibConstants.BROTLI_PARAM_LGWIN]: 22 } });
}

function compressWith(codec: 'brotli' | 'zstd', bytes: Buffer, level: number): Promise<Buffer> {
  return codec === 'zstd' ? compressZstd(bytes, level) : brotli(bytes, level);
}

export async function encodeChunk(raw: Buffer, settings: CompressionSettings): Promise<EncodedChunk> {
  if (settings.codec === 'none' || raw.length < 64) return { codec: codecIds.none, bytes: raw };
  const codec = settings.codec;
  // Trained weights are mostly incompressible: try a sample from the middle before the whole chunk.
  if (raw.length > 4 * sampleBytes) {
    const start = Math.floor(raw.length / 2) - sampleBytes / 2;
    const sample = await compressWith(codec, raw.subarray(start, start + sampleBytes), settings.level);
    if (sample.length > sampleBytes * (1 - minSaving / 2)) return { codec: codecIds.none, bytes: raw };
  }
  const packed = await compressWith(codec, raw, settings.level);
  if (packed.length > raw.length * (1 - minSaving)) return { codec: codecIds.none, bytes: raw };
  return { codec: codecIds[codec], bytes: packed };
}

export async function decodeChunk(codec: number, bytes: Buffer, expectedLength: number): Promise<Buffer> {
  let raw: Buffer;
  if (codec === codecIds.none) raw = bytes;
  else if (codec === codecIds.brotli) {
    try {
      raw = await decompressBrotli(bytes, { maxOutputLength: expectedLength + 1 });
    } catch (error) {
      throw new DepotError('DIGEST_MISMATCH', 'A chunk does not decompress.', { reason: 'chunk-corrupt', cause: error });
    }
  } else if (codec === codecIds.zstd) {
    // The frame header names its content size; a frame claiming more than the index says is damaged.
    const declared = zstdContentSize(bytes);
    if (declared !== null && declared !== expectedLength) throw new DepotError('DIGEST_MISMATCH', `A zstd chunk declares ${declared} bytes instead of ${expectedLength}.`, { reason: 'chunk-corrupt' });
    try {
      raw = await decompressZstd(bytes);
    } catch (error) {
      throw new DepotError('DIGEST_MISMATCH', 'A chunk does not decompress.', { reason: 'chunk-corrupt', cause: error });
    }
  } else throw new DepotError('VALIDATION_FAILED', `Unknown chunk codec ${codec} (written by a newer version?).`, { reason: 'unknown-codec' });
  if (raw.length !== expectedLength) throw new DepotError('DIGEST_MISMATCH', `A chunk decompressed to ${raw.length} bytes instead of ${expectedLength}.`, { reason: 'chunk-corrupt' });
  return raw;
}

/** The frame content size from a zstd frame header (RFC 8878 §3.1.1.1), or null when the frame omits it. */
function zstdContentSize(frame: Buffer): number | null {
  if (frame.length < 6 || frame.readUInt32LE(0) !== 0xfd2fb528) throw new DepotError('DIGEST_MISMATCH', 'A zstd chunk has no zstd frame header.', { reason: 'chunk-corrupt' });
  const descriptor = frame[4] ?? 0;
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 3] ?? 0;
  const offset = 5 + (singleSegment ? 0 : 1) + dictionaryBytes;
  const sizeBytes = sizeFlag === 0 ? singleSegment : [1, 2, 4, 8][sizeFlag] ?? 0;
  if (sizeBytes === 0) return null;
  if (frame.length < offset + sizeBytes) throw new DepotError('DIGEST_MISMATCH', 'A zstd chunk has a truncated frame header.', { reason: 'chunk-corrupt' });
  if (sizeBytes === 1) return frame[offset] ?? 0;
  if (sizeBytes === 2) return frame.readUInt16LE(offset) + 256;
  if (sizeBytes === 4) return frame.readUInt32LE(offset);
  const value = frame.readBigUInt64LE(offset);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}
