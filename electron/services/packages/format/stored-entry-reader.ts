import type { FileHandle } from 'node:fs/promises';
import type yauzl from 'yauzl';
import { RunningDigest } from './digest-stream';
import { invalidPackage, throwIfAborted } from './package-errors';

const localHeaderSignature = 0x04034b50;
const localHeaderBytes = 30;
/** Reads of 4 MiB, two buffers: the next read runs in the thread pool while this one is hashed. */
const readBytes = 4 * 1024 * 1024;

export interface EntryDigest {
  sha256: string;
  crc32: number;
}

/**
 * SHA-256 and CRC-32 of a Stored entry read straight from the file with large positioned reads,
 * the next read overlapping the hashing of the current one (a weights file is read from the page
 * cache at memory speed, not through a 64 KiB stream). Returns null when the entry does not look
 * like the plain case (bad local header, sizes that disagree, data past the end): the caller then
 * reads it through yauzl, whose errors say what is wrong.
 */
export async function digestStoredEntry(
  file: FileHandle,
  fileSize: number,
  entry: yauzl.Entry,
  onChunk: (bytes: number) => void,
  signal: AbortSignal | undefined,
): Promise<EntryDigest | null> {
  if (entry.compressionMethod !== 0 || entry.compressedSize !== entry.uncompressedSize) return null;
  const header = Buffer.alloc(localHeaderBytes);
  const headerRead = await file.read(header, 0, localHeaderBytes, entry.relativeOffsetOfLocalHeader);
  if (headerRead.bytesRead !== localHeaderBytes || header.readUInt32LE(0) !== localHeaderSignature) return null;
  const start = entry.relativeOffsetOfLocalHeader + localHeaderBytes + header.readUInt16LE(26) + header.readUInt16LE(28);
  const end = start + entry.compressedSize;
  if (end > fileSize) return null;

  const digest = new RunningDigest(true, onChunk);
  const buffers = [Buffer.allocUnsafe(Math.min(readBytes, Math.max(entry.compressedSize, 1))), Buffer.allocUnsafe(Math.min(readBytes, Math.max(entry.compressedSize, 1)))] as const;
  const readAt = async (position: number, index: number): Promise<Buffer> => {
    const buffer = buffers[index % 2] as Buffer;
    const length = Math.min(buffer.length, end - position);
    const { bytesRead } = await file.read(buffer, 0, length, position);
    if (bytesRead !== length) throw invalidPackage('truncated', 'The package is truncated: an entry ends past the end of the file.');
    return buffer.subarray(0, length);
  };
  let position = start;
  let index = 0;
  let pending: Promise<Buffer> | null = position < end ? readAt(position, index) : null;
  while (pending) {
    const chunk = await pending;
    throwIfAborted(signal);
    position += chunk.length;
    index += 1;
    // Start the next read before hashing this chunk: disk (or page cache copy) and hashing overlap.
    pending = position < end ? readAt(position, index) : null;
    const error = digest.update(chunk);
    if (error) {
      await pending?.catch(() => undefined);
      throw error;
    }
  }
  return { sha256: digest.hex(), crc32: digest.crc32 };
}
