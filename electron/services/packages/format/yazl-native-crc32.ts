import { createRequire } from 'node:module';
import zlib from 'node:zlib';

/**
 * yazl computes every entry's CRC-32 through buffer-crc32, a byte-at-a-time JavaScript loop
 * (~300 MiB/s on a quiet core; it was a third of `torsh-depot pack`'s time for a 1 GiB weights
 * file). Node's zlib.crc32 computes the same standard CRC-32 natively (~4 GB/s). yazl calls
 * `crc32.unsigned(data, previous)` on the module object it required, so replacing that one function
 * on the same module object (resolved from yazl's own folder) makes yazl use zlib's; results are
 * identical (the package tests check every CRC with the reference reader).
 */
interface BufferCrc32 {
  unsigned: (data: Buffer | string | number, previous?: number | Buffer) => number;
}

let installed = false;

export function useNativeCrc32InYazl(): void {
  if (installed) return;
  const fromHere = createRequire(__filename);
  const bufferCrc32 = createRequire(fromHere.resolve('yazl'))('buffer-crc32') as BufferCrc32;
  bufferCrc32.unsigned = (data, previous) => {
    const bytes = typeof data === 'number' ? Buffer.alloc(data) : data;
    const start = previous === undefined ? 0 : Buffer.isBuffer(previous) ? previous.readUInt32BE(0) : previous >>> 0;
    return zlib.crc32(bytes, start);
  };
  installed = true;
}
