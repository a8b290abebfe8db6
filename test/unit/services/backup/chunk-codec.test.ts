import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { compress as zstdCompress } from '@mongodb-js/zstd';
import { assertCompression, codecIds, decodeChunk, defaultCompression, encodeChunk } from '../../../../electron/services/backup/chunk-codec';

/** A compressible chunk: a config-like text repeated with variations. */
function textChunk(length: number): Buffer {
  const lines: string[] = [];
  for (let index = 0; lines.join('\n').length < length; index += 1) lines.push(`layer.${index}.weight: { dtype: float16, shape: [${index % 64}, 768], offset: ${index * 1536} }`);
  return Buffer.from(lines.join('\n')).subarray(0, length);
}

describe('chunk codec', () => {
  it('uses zstd level 3 for new repositories', () => {
    expect(defaultCompression).toEqual({ codec: 'zstd', level: 3 });
  });

  it('compresses a compressible chunk with zstd and reads it back', async () => {
    const raw = textChunk(512 * 1024);
    const encoded = await encodeChunk(raw, { codec: 'zstd', level: 3 });
    expect(encoded.codec).toBe(codecIds.zstd);
    expect(encoded.bytes.length).toBeLessThan(raw.length / 4);
    expect((await decodeChunk(encoded.codec, encoded.bytes, raw.length)).equals(raw)).toBe(true);
  });

  it('stores an incompressible chunk as is (compression skipped when it does not pay)', async () => {
    const raw = randomBytes(1024 * 1024);
    const encoded = await encodeChunk(raw, { codec: 'zstd', level: 3 });
    expect(encoded.codec).toBe(codecIds.none);
    expect(encoded.bytes).toBe(raw);
    const small = randomBytes(20_000);
    expect((await encodeChunk(small, { codec: 'zstd', level: 1 })).codec).toBe(codecIds.none);
  });

  it('still reads brotli chunks written by repositories made before zstd', async () => {
    const raw = textChunk(200 * 1024);
    const encoded = await encodeChunk(raw, { codec: 'brotli', level: 3 });
    expect(encoded.codec).toBe(codecIds.brotli);
    expect((await decodeChunk(codecIds.brotli, encoded.bytes, raw.length)).equals(raw)).toBe(true);
  });

  it('refuses a zstd frame whose declared size differs from the index, and garbage', async () => {
    const raw = textChunk(100 * 1024);
    const frame = await zstdCompress(raw, 3);
    await expect(decodeChunk(codecIds.zstd, frame, raw.length + 1)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', reason: 'chunk-corrupt' });
    await expect(decodeChunk(codecIds.zstd, Buffer.from('not a zstd frame at all'), 23)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    const damaged = Buffer.from(frame);
    damaged[damaged.length - 10] = (damaged[damaged.length - 10] ?? 0) ^ 0xff;
    await expect(decodeChunk(codecIds.zstd, damaged, raw.length).then((out) => out.equals(raw))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(decodeChunk(9, frame, raw.length)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', reason: 'unknown-codec' });
  });

  it('checks the level against the codec', () => {
    expect(() => assertCompression({ codec: 'zstd', level: 0 })).toThrow(/zstd level/);
    expect(() => assertCompression({ codec: 'zstd', level: 20 })).toThrow(/zstd level/);
    expect(() => assertCompression({ codec: 'brotli', level: 12 })).toThrow(/brotli level must/);
    expect(() => assertCompression({ codec: 'zstd', level: 19 })).not.toThrow();
  });
});
