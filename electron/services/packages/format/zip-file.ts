import { promises as fsp } from 'node:fs';
import { type Readable } from 'node:stream';
import yauzl from 'yauzl';
import { DepotError } from '../../../../shared/errors';
import { invalidPackage } from './package-errors';

/** One central-directory record with its name decoded by us (yauzl's own checks are bypassed on purpose). */
export interface ZipEntryRecord {
  entry: yauzl.Entry;
  name: string;
}

export interface OpenedZip {
  zip: yauzl.ZipFile;
  fileSize: number;
  entryCount: number;
}

const utf8NameFlag = 0x800;
const unixHostId = 3;
const unixFileTypeMask = 0o170000;
const unixSymlinkType = 0o120000;

// yauzl 3 exports this helper (CP437, UTF-8 flag, Info-ZIP Unicode Path field) but @types/yauzl 2.x omits it.
type FileNameDecoder = (flag: number, raw: Buffer, extraFields: Array<{ id: number; data: Buffer }>, strictFileNames: boolean) => string;
const getFileNameLowLevel = (yauzl as unknown as { getFileNameLowLevel?: FileNameDecoder }).getFileNameLowLevel;

/**
 * Opens the ZIP without decoding names: yauzl would reject `../x` or `/x` with a
 * free-text error, and we want a precise reason for each defect instead.
 */
export async function openZip(filePath: string): Promise<OpenedZip> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.open(filePath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true }, (error, opened) => {
      if (error) reject(error);
      else resolve(opened);
    });
  }).catch(async (error: unknown) => {
    throw await classifyOpenError(filePath, error);
  });
  return { zip, fileSize: zip.fileSize, entryCount: zip.entryCount };
}

/** Reads the next central-directory record; null at the end. */
export function readNextEntry(zip: yauzl.ZipFile): Promise<ZipEntryRecord | null> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      zip.removeListener('entry', onEntry);
      zip.removeListener('end', onEnd);
      zip.removeListener('error', onError);
    };
    const onEntry = (entry: yauzl.Entry): void => {
      cleanup();
      try {
        resolve({ entry, name: decodeEntryName(entry) });
      } catch (error) {
        reject(error);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(null);
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(classifyReadError(error));
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

export function openEntryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) reject(classifyReadError(error));
      else resolve(stream);
    });
  });
}

function decodeEntryName(entry: yauzl.Entry): string {
  const raw: unknown = (entry as unknown as { fileName: unknown }).fileName;
  if (!Buffer.isBuffer(raw)) return String(raw);
  if ((entry.generalPurposeBitFlag & utf8NameFlag) !== 0) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw invalidPackage('bad-entry-name-encoding', 'An entry name claims UTF-8 but is not valid UTF-8.');
    }
  }
  if (getFileNameLowLevel) return getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
  return raw.toString('latin1');
}

export function isSymlinkEntry(entry: yauzl.Entry): boolean {
  return entry.versionMadeBy >> 8 === unixHostId && ((entry.externalFileAttributes >>> 16) & unixFileTypeMask) === unixSymlinkType;
}

export function compressionOf(entry: yauzl.Entry): 'stored' | 'deflate' | null {
  if (entry.compressionMethod === 0) return 'stored';
  if (entry.compressionMethod === 8) return 'deflate';
  return null;
}

/** yauzl reports everything as free text; map it to reasons a client can act on. */
async function classifyOpenError(filePath: string, error: unknown): Promise<unknown> {
  if (error instanceof DepotError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return new DepotError('NOT_FOUND', 'The package file does not exist.', { reason: 'file-not-found', cause: error });
  if (typeof code === 'string') return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/end of central directory record signature not found/i.test(message)) {
    // A local header at offset 0 but no directory at the end: the tail was cut off.
    return (await startsWithLocalHeader(filePath))
      ? invalidPackage('truncated', 'The package is truncated: its ZIP central directory is missing.', error)
      : invalidPackage('not-a-zip', 'The file is not a ZIP package.', error);
  }
  return classifyReadError(error);
}

export function classifyReadError(error: unknown): unknown {
  if (error instanceof DepotError) return error;
  if (isZlibError(error)) return invalidPackage('corrupt-entry', "An entry's compressed data is corrupt.", error);
  // Other coded errors are I/O failures (EIO, EMFILE…), not package defects.
  if (typeof (error as { code?: unknown }).code === 'string') return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/unexpected EOF|overflows file bounds/i.test(message)) return invalidPackage('truncated', 'The package is truncated: entry data runs past the end of the file.', error);
  if (/too many bytes|not enough bytes|size mismatch/i.test(message)) return invalidPackage('entry-size-mismatch', "An entry's data does not match the size in the central directory.", error);
  if (/encrypt/i.test(message)) return invalidPackage('encrypted-entry', 'Encrypted entries are not supported.', error);
  if (/multi-disk/i.test(message)) return invalidPackage('multi-disk', 'Multi-disk ZIP files are not supported.', error);
  return invalidPackage('corrupt-zip', `The ZIP structure is corrupt: ${message}`, error);
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}

export async function startsWithLocalHeader(filePath: string): Promise<boolean> {
  const handle = await fsp.open(filePath, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.readUInt32LE(0) === 0x04034b50;
  } finally {
    await handle.close();
  }
}
