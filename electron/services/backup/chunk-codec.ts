import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants as zlibConstants } from 'node:zlib';
import { DepotError } from '../../../shared/errors';

const compressBrotli = promisify(brotliCompress);
const decompressBrotli = promisify(brotliDecompress);

/**
 * Codec ids recorded per chunk (in the index and inside each sealed blob). 0 = stored as is;
 * 1 = brotli. zstd (id 2) joins once a zstd binding is a dependency: Node 20's zlib has none.
 */
export const codecIds = { none: 0, brotli: 1 } as const;
export type CodecName = keyof typeof codecIds;
export type CodecId = (typeof codecIds)[CodecName];

export interface CompressionSettings {
  codec: CodecName;
  /** brotli quality 0–11. */
  level: number;
}

export const defaultCompression: CompressionSettings = { codec: 'brotli', level: 3 };

/** Compress only when it saves at least this fraction: tensors of floats rarely compress. */
const minSaving = 1 / 16;

export interface EncodedChunk {
  codec: CodecId;
  bytes: Buffer;
}

export async function encodeChunk(raw: Buffer, settings: CompressionSettings): Promise<EncodedChunk> {
  if (settings.codec === 'none' || raw.length < 64) return { codec: codecIds.none, bytes: raw };
  const packed = await compressBrotli(raw, {
    params: { [zlibConstants.BROTLI_PARAM_QUALITY]: settings.level, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length, [zlibConstants.BROTLI_PARAM_LGWIN]: 22 },
  });
  if (packed.length > raw.length * (1 - minSaving)) return { codec: codecIds.none, bytes: raw };
  return { codec: codecIds.brotli, bytes: packed };
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
  } else throw new DepotError('VALIDATION_FAILED', `Unknown chunk codec ${codec} (written by a newer version?).`, { reason: 'unknown-codec' });
  if (raw.length !== expectedLength) throw new DepotError('DIGEST_MISMATCH', `A chunk decompressed to ${raw.length} bytes instead of ${expectedLength}.`, { reason: 'chunk-corrupt' });
  return raw;
}
