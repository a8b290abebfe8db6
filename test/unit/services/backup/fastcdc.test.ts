import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { FastCdc, chunkFileRange, chunkStream, defaultChunkerParams, log2Rounded } from '../../../../electron/services/backup/fastcdc';

async function collect(data: Buffer, chunker: FastCdc, pieceSize: number): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += pieceSize) pieces.push(data.subarray(offset, offset + pieceSize));
  const chunks: Buffer[] = [];
  for await (const chunk of chunkStream(Readable.from(pieces), chunker)) chunks.push(chunk);
  return chunks;
}

/** Deterministic pseudo-random bytes (SHA-256 in counter mode) so the cut points are reproducible. */
function pseudoRandom(length: number, seed: string): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0, counter = 0; offset < length; offset += 32, counter += 1) {
    createHash('sha256').update(`${seed}:${counter}`).digest().copy(out, offset);
  }
  return out;
}

describe('FastCDC 2020', () => {
  it('rounds log2 as the reference does', () => {
    expect([1, 2, 3, 5, 6, 11, 12, 19, 64, 16383, 16385, 65535, 1_048_577, 4_194_303].map(log2Rounded)).toEqual([0, 1, 2, 2, 3, 3, 4, 4, 6, 14, 14, 16, 20, 22]);
  });

  it('chooses the reference masks (published vectors: test_masks)', () => {
    expect(new FastCdc({ minSize: 64, avgSize: 256, maxSize: 1024 }).masks()).toEqual({ small: '0000019000353000', large: '0000000018035100' });
    expect(new FastCdc({ minSize: 8192, avgSize: 16384, maxSize: 32768 }).masks()).toEqual({ small: '0000d90f03530000', large: '0000d90303530000' });
    expect(new FastCdc({ minSize: 1_048_576, avgSize: 4_194_304, maxSize: 16_777_216 }).masks()).toEqual({ small: '0000d93777537000', large: '0000d91767537000' });
  });

  it('cuts all-zero data at the maximum with the published gear hash (test_cut_all_zeros)', () => {
    const zeros = new Uint8Array(10240);
    const chunker = new FastCdc({ minSize: 64, avgSize: 256, maxSize: 1024 });
    let cursor = 0;
    for (let index = 0; index < 10; index += 1) {
      const { length, hash } = chunker.cut(zeros, cursor, zeros.length);
      expect(hash).toBe(14169102344523991076n);
      expect(length).toBe(1024);
      cursor += length;
    }
    expect(chunker.cut(zeros, cursor, zeros.length).length).toBe(0);
  });

  it('keeps chunk sizes within min/max and the stream result independent of read sizes', async () => {
    const chunker = new FastCdc({ minSize: 2048, avgSize: 8192, maxSize: 65536 });
    const data = pseudoRandom(1_000_000, 'a');
    const a = await collect(data, chunker, 4096);
    const b = await collect(data, chunker, 333_333);
    expect(a.map((chunk) => chunk.length)).toEqual(b.map((chunk) => chunk.length));
    expect(Buffer.concat(a).equals(data)).toBe(true);
    for (const chunk of a.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(2048);
      expect(chunk.length).toBeLessThanOrEqual(65536);
    }
    const mean = data.length / a.length;
    expect(mean).toBeGreaterThan(4096);
    expect(mean).toBeLessThan(16384);
  });

  it('re-synchronises after an insertion: most chunks stay identical', async () => {
    const chunker = new FastCdc({ minSize: 2048, avgSize: 8192, maxSize: 65536 });
    const data = pseudoRandom(2_000_000, 'b');
    const edited = Buffer.concat([data.subarray(0, 700_000), randomBytes(100), data.subarray(700_000)]);
    const digests = (chunks: Buffer[]): Set<string> => new Set(chunks.map((chunk) => createHash('sha256').update(chunk).digest('hex')));
    const before = digests(await collect(data, chunker, 65536));
    const after = [...digests(await collect(edited, chunker, 65536))];
    const shared = after.filter((digest) => before.has(digest)).length;
    expect(shared).toBeGreaterThanOrEqual(after.length - 3);
  });

  it('cuts a file range read into windows exactly as the stream does, and notices a file that became shorter', async () => {
    const chunker = new FastCdc({ minSize: 1024, avgSize: 4096, maxSize: 16384 });
    const data = pseudoRandom(300_000, 'windows');
    // A reader that returns fewer bytes than asked, as a real file may.
    const reader = {
      read: async (buffer: Buffer, offset: number, length: number, position: number) => {
        const bytesRead = data.copy(buffer, offset, position, Math.min(data.length, position + Math.min(length, 5000)));
        return { bytesRead };
      },
    };
    for (const [start, end] of [[0, data.length], [777, 250_123], [10, 10], [5, 900]] as const) {
      const windowed: Buffer[] = [];
      for await (const chunk of chunkFileRange(reader, start, end, chunker)) windowed.push(Buffer.from(chunk));
      const streamed = await collect(data.subarray(start, end), chunker, 65536);
      expect(windowed.map((chunk) => chunk.length)).toEqual(streamed.map((chunk) => chunk.length));
      expect(Buffer.concat(windowed).equals(data.subarray(start, end))).toBe(true);
    }
    const chunks = chunkFileRange(reader, 0, data.length + 10, chunker);
    await expect((async () => {
      for await (const chunk of chunks) expect(chunk.length).toBeGreaterThan(0);
    })()).rejects.toThrow(/became shorter/);
  });

  it('uses 512 KiB / 1 MiB / 8 MiB by default and refuses bad sizes', () => {
    expect(defaultChunkerParams).toEqual({ minSize: 524288, avgSize: 1048576, maxSize: 8388608 });
    expect(() => new FastCdc({ minSize: 63, avgSize: 256, maxSize: 1024 })).toThrow(/Invalid chunk sizes/);
    expect(() => new FastCdc({ minSize: 4096, avgSize: 1024, maxSize: 8192 })).toThrow(/Invalid chunk sizes/);
  });
});
