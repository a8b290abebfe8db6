import { promises as fsp } from 'node:fs';
import { openZip, readNextEntry, startsWithLocalHeader } from '../packages/format/zip-file';

/**
 * Byte ranges of a file to chunk independently. For a package (a ZIP), every entry's local header
 * and every entry's data start a new range, so a changed tensor never shifts the chunks of the
 * others, and a header whose timestamp changed does not change the chunk of unchanged data.
 * Anything that is not a readable ZIP is one range (whole-file chunking).
 */
/** A range to chunk; an entry's data carries a key (name, CRC-32, sizes, method) its chunk list can be found again by. */
export interface FileSegment {
  start: number;
  end: number;
  key: string | null;
}

export async function zipSegments(filePath: string, size: number): Promise<FileSegment[]> {
  const whole: FileSegment[] = size === 0 ? [] : [{ start: 0, end: size, key: null }];
  if (size < 22 || !(await startsWithLocalHeader(filePath))) return whole;
  let opened;
  try {
    opened = await openZip(filePath);
  } catch {
    return whole;
  }
  const cuts = new Set<number>([0, size]);
  const keys = new Map<number, string>();
  const handle = await fsp.open(filePath, 'r');
  try {
    const header = Buffer.alloc(30);
    for (;;) {
      const record = await readNextEntry(opened.zip);
      if (!record) break;
      const offset = record.entry.relativeOffsetOfLocalHeader;
      const { bytesRead } = await handle.read(header, 0, 30, offset);
      if (bytesRead < 30 || header.readUInt32LE(0) !== 0x04034b50) return whole;
      const dataStart = offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
      cuts.add(offset);
      cuts.add(dataStart);
      cuts.add(dataStart + record.entry.compressedSize);
      if (record.entry.compressedSize > 0) {
        const name = Buffer.isBuffer(record.entry.fileName) ? (record.entry.fileName as Buffer).toString('hex') : Buffer.from(String(record.entry.fileName)).toString('hex');
        keys.set(dataStart, `${name}:${record.entry.crc32.toString(16)}:${record.entry.compressedSize}:${record.entry.uncompressedSize}:${record.entry.compressionMethod}`);
      }
    }
  } catch {
    return whole;
  } finally {
    await handle.close();
    opened.zip.close();
  }
  const sorted = [...cuts].filter((cut) => cut >= 0 && cut <= size).sort((a, b) => a - b);
  const segments: FileSegment[] = [];
  for (let index = 1; index < sorted.length; index += 1) {
    const start = sorted[index - 1] ?? 0;
    const end = sorted[index] ?? 0;
    if (end > start) segments.push({ start, end, key: keys.get(start) ?? null });
  }
  return segments;
}
