import { promises as fsp } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type yauzl from 'yauzl';
import { DepotError, isAbortError } from '../../../../shared/errors';
import { type Manifest, type ManifestResource, type ResourceType } from '../../../../shared/packages/manifest';
import { DigestSink } from './digest-stream';
import { digestStoredEntry, type EntryDigest } from './stored-entry-reader';
import { describeEntryPathDefect, entryPathDefect, entryPathKey, isDirectoryEntryName } from './entry-path';
import { parseManifest } from './manifest-parser';
import { cancelledError, digestMismatch, invalidPackage, throwIfAborted, validationFailed } from './package-errors';
import { entryPathForResource, resourceNameForEntryPath, resourceTypeForEntryPath } from './resource-type';
import { classifyReadError, compressionOf, isSymlinkEntry, openEntryStream, openZip, readNextEntry } from './zip-file';
import { type PackageLimits, exceedsCompressionRatio, resolvePackageLimits } from './zip-limits';

export const manifestEntryName = 'MANIFEST.json';
export const sidecarSuffix = '.metadata';

export interface PackageResourceInfo {
  /** Full entry path, e.g. `models/sub/w.pt`. */
  path: string;
  /** Path below the type folder, sub-paths kept (`sub/w.pt`). */
  name: string;
  type: ResourceType;
  size: number;
  compressedSize: number;
  compression: 'stored' | 'deflate';
  /** Hex SHA-256, computed while streaming. */
  sha256: string;
  /** The `.metadata` sidecar, `{}` when there is none. */
  metadata: Record<string, string>;
}

export interface PackageInspection {
  manifest: Manifest;
  resources: PackageResourceInfo[];
  dependencies: Record<string, string>;
  fileSize: number;
  entryCount: number;
}

export interface InspectPackageOptions {
  limits?: Partial<PackageLimits>;
  signal?: AbortSignal;
  onProgress?: (bytesHashed: number, totalBytes: number) => void;
}

interface FileEntry {
  name: string;
  entry: yauzl.Entry;
}

/** What the central directory says, validated before any entry data is read. */
interface PackageLayout {
  manifest: FileEntry;
  /** Keyed by exact entry path. */
  resources: Map<string, FileEntry>;
  /** Keyed by the path of the resource they describe. */
  sidecars: Map<string, FileEntry>;
  entryCount: number;
  fileSize: number;
}

// Progress callbacks at most once per MiB hashed (plus once per resource): cheap for multi-GB weights.
const progressStepBytes = 1024 * 1024;

/**
 * Reads and verifies a whole package without trusting it: names and limits from the
 * central directory first, then the manifest and sidecars (size-capped, buffered),
 * then every resource streamed through SHA-256 and CRC-32 (never buffered).
 */
export async function inspectPackage(filePath: string, options: InspectPackageOptions = {}): Promise<PackageInspection> {
  const limits = resolvePackageLimits(options.limits);
  const { signal } = options;
  throwIfAborted(signal);
  const opened = await openZip(filePath);
  try {
    const layout = await readLayout(opened.zip, opened.entryCount, opened.fileSize, limits, signal);
    throwIfAborted(signal);
    const manifest = parseManifest(await readSmallEntry(opened.zip, layout.manifest, limits.maxManifestBytes, 'manifest-too-large'));
    const sidecars = new Map<string, Record<string, string>>();
    for (const [resourcePath, sidecar] of layout.sidecars) {
      throwIfAborted(signal);
      sidecars.set(resourcePath, parseSidecar(sidecar.name, await readSmallEntry(opened.zip, sidecar, limits.maxSidecarBytes, 'sidecar-too-large')));
    }
    const declared = matchManifestResources(manifest.resources, layout.resources);
    const resources = await hashResources(filePath, opened.zip, layout, declared, sidecars, options);
    return {
      manifest,
      resources,
      dependencies: { ...manifest.dependencies },
      fileSize: layout.fileSize,
      entryCount: layout.entryCount,
    };
  } catch (error) {
    throw isAbortError(error) ? cancelledError() : error;
  } finally {
    opened.zip.close();
  }
}

async function readLayout(zip: yauzl.ZipFile, entryCount: number, fileSize: number, limits: PackageLimits, signal: AbortSignal | undefined): Promise<PackageLayout> {
  if (entryCount > limits.maxEntries) {
    throw invalidPackage('too-many-entries', `The package has ${entryCount} entries; at most ${limits.maxEntries} are allowed.`);
  }
  const files: FileEntry[] = [];
  const allEntries: yauzl.Entry[] = [];
  const seen = new Set<string>();
  let totalUncompressed = 0;
  for (let record = await readNextEntry(zip); record !== null; record = await readNextEntry(zip)) {
    throwIfAborted(signal);
    const { entry, name } = record;
    const defect = entryPathDefect(name);
    if (defect !== null) throw invalidPackage(defect, `Entry ${quoteName(name)} ${describeEntryPathDefect(defect)}.`);
    if (entry.isEncrypted()) throw invalidPackage('encrypted-entry', `Entry ${quoteName(name)} is encrypted; packages are never encrypted.`);
    if (compressionOf(entry) === null) {
      throw invalidPackage('unsupported-compression', `Entry ${quoteName(name)} uses ZIP compression method ${entry.compressionMethod}; only Stored and Deflate are supported.`);
    }
    if (isSymlinkEntry(entry)) throw invalidPackage('symlink-entry', `Entry ${quoteName(name)} is a symbolic link.`);
    // Caps on the buffered entries first: an oversized manifest is reported as such, not as a bomb.
    if (name === manifestEntryName && entry.uncompressedSize > limits.maxManifestBytes) {
      throw invalidPackage('manifest-too-large', `MANIFEST.json is ${entry.uncompressedSize} bytes; at most ${limits.maxManifestBytes} are allowed.`);
    }
    if (name.endsWith(sidecarSuffix) && entry.uncompressedSize > limits.maxSidecarBytes) {
      throw invalidPackage('sidecar-too-large', `Sidecar ${quoteName(name)} is ${entry.uncompressedSize} bytes; at most ${limits.maxSidecarBytes} are allowed.`);
    }
    totalUncompressed += entry.uncompressedSize;
    if (totalUncompressed > limits.maxTotalUncompressedBytes) {
      throw invalidPackage('total-size-limit', `The package unpacks to more than ${limits.maxTotalUncompressedBytes} bytes.`);
    }
    if (exceedsCompressionRatio(entry.uncompressedSize, entry.compressedSize, limits.maxCompressionRatio)) {
      throw invalidPackage('compression-ratio', `Entry ${quoteName(name)} inflates more than ${limits.maxCompressionRatio}:1 (a ZIP bomb?).`);
    }
    allEntries.push(entry);
    if (isDirectoryEntryName(name)) continue;
    const key = entryPathKey(name);
    if (seen.has(key)) throw invalidPackage('duplicate-entry', `Entry ${quoteName(name)} appears more than once.`);
    seen.add(key);
    files.push({ name, entry });
  }
  assertNoPathConflicts(files, seen);
  assertNoOverlap(allEntries);
  return classifyEntries(files, entryCount, fileSize);
}

/** `models/a` as a file and `models/a/b` cannot both be extracted. */
function assertNoPathConflicts(files: readonly FileEntry[], keys: ReadonlySet<string>): void {
  for (const file of files) {
    const segments = entryPathKey(file.name).split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      if (keys.has(segments.slice(0, depth).join('/'))) {
        throw invalidPackage('entry-path-conflict', `Entry ${quoteName(file.name)} lies inside another entry that is a file.`);
      }
    }
  }
}

/**
 * Entries whose data overlap are how non-recursive ZIP bombs multiply one compressed
 * kernel: every local header needs at least 30 bytes plus its compressed data.
 */
function assertNoOverlap(entries: readonly yauzl.Entry[]): void {
  const byOffset = [...entries].sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  for (let index = 1; index < byOffset.length; index += 1) {
    const previous = byOffset[index - 1];
    const current = byOffset[index];
    if (previous && current && current.relativeOffsetOfLocalHeader < previous.relativeOffsetOfLocalHeader + 30 + previous.compressedSize) {
      throw invalidPackage('overlapping-entries', 'Two entries share the same bytes in the file (a ZIP bomb?).');
    }
  }
}

function classifyEntries(files: readonly FileEntry[], entryCount: number, fileSize: number): PackageLayout {
  const byName = new Map(files.map((file) => [file.name, file]));
  let manifest: FileEntry | undefined;
  const resources = new Map<string, FileEntry>();
  const sidecars = new Map<string, FileEntry>();
  for (const file of files) {
    if (file.name === manifestEntryName) {
      manifest = file;
    } else if (file.name.endsWith(sidecarSuffix)) {
      // The reference treats every `.metadata` entry as a sidecar; one without its resource would be silently dropped.
      const resourcePath = file.name.slice(0, -sidecarSuffix.length);
      if (resourcePath === manifestEntryName || resourcePath.endsWith(sidecarSuffix) || !byName.has(resourcePath)) {
        throw invalidPackage('orphan-sidecar', `Sidecar ${quoteName(file.name)} has no resource ${quoteName(resourcePath)} to describe.`);
      }
      sidecars.set(resourcePath, file);
    } else {
      resources.set(file.name, file);
    }
  }
  if (manifest === undefined) throw invalidPackage('missing-manifest', 'The package has no MANIFEST.json.');
  return { manifest, resources, sidecars, entryCount, fileSize };
}

/** Buffers an entry that is size-capped by the limits (manifest, sidecars), verifying its CRC-32. */
async function readSmallEntry(zip: yauzl.ZipFile, file: FileEntry, maxBytes: number, tooLargeReason: string): Promise<Buffer> {
  const stream = await openEntryStream(zip, file.entry);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      length += buffer.length;
      // validateEntrySizes already holds the stream to the declared size; this cap is the belt to those braces.
      if (length > maxBytes) throw invalidPackage(tooLargeReason, `Entry ${quoteName(file.name)} is larger than ${maxBytes} bytes.`);
      chunks.push(buffer);
    }
  } catch (error) {
    stream.destroy();
    throw classifyReadError(error);
  }
  const bytes = Buffer.concat(chunks, length);
  if (zlib.crc32(bytes) !== file.entry.crc32) {
    throw digestMismatch('crc-mismatch', `Entry ${quoteName(file.name)} does not match its CRC-32: the file is corrupt.`);
  }
  return bytes;
}

function parseSidecar(name: string, bytes: Buffer): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalidPackage('bad-sidecar', `Sidecar ${quoteName(name)} is not valid UTF-8 JSON.`, error);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((value) => typeof value === 'string')) {
    throw invalidPackage('bad-sidecar', `Sidecar ${quoteName(name)} must be a JSON object of strings.`);
  }
  return { ...(raw as Record<string, string>) };
}

/** Maps manifest resources to entries up front, so a missing or resized resource fails before hours of hashing. */
function matchManifestResources(declared: readonly ManifestResource[], resources: ReadonlyMap<string, FileEntry>): Map<string, ManifestResource> {
  const byPath = new Map<string, ManifestResource>();
  for (const resource of declared) {
    const defect = entryPathDefect(resource.name);
    if (defect !== null) {
      throw invalidPackage('bad-manifest-resource', `Manifest resource ${quoteName(resource.name)} ${describeEntryPathDefect(defect)}.`);
    }
    const entryPath = entryPathForResource(resource.resource_type, resource.name);
    if (byPath.has(entryPath)) throw invalidPackage('duplicate-resource', `The manifest lists ${quoteName(entryPath)} twice.`);
    const file = resources.get(entryPath);
    if (file === undefined) {
      throw invalidPackage('resource-missing', `The manifest lists ${resource.resource_type} resource ${quoteName(resource.name)}, but ${quoteName(entryPath)} is not in the package.`);
    }
    if (file.entry.uncompressedSize !== resource.size) {
      throw invalidPackage('resource-size-mismatch', `${quoteName(entryPath)} is ${file.entry.uncompressedSize} bytes; the manifest says ${resource.size}.`);
    }
    byPath.set(entryPath, resource);
  }
  return byPath;
}

async function hashResources(
  filePath: string,
  zip: yauzl.ZipFile,
  layout: PackageLayout,
  declared: ReadonlyMap<string, ManifestResource>,
  sidecars: ReadonlyMap<string, Record<string, string>>,
  options: InspectPackageOptions,
): Promise<PackageResourceInfo[]> {
  const { signal, onProgress } = options;
  // File order keeps the disk reading forward.
  const files = [...layout.resources.values()].sort((a, b) => a.entry.relativeOffsetOfLocalHeader - b.entry.relativeOffsetOfLocalHeader);
  const totalBytes = files.reduce((sum, file) => sum + file.entry.uncompressedSize, 0);
  let hashedBytes = 0;
  let reportedBytes = 0;
  const report = (force: boolean): void => {
    if (onProgress && (force || hashedBytes - reportedBytes >= progressStepBytes)) {
      reportedBytes = hashedBytes;
      onProgress(hashedBytes, totalBytes);
    }
  };

  const onChunk = (bytes: number): void => {
    hashedBytes += bytes;
    report(false);
  };
  const results: PackageResourceInfo[] = [];
  const handle = await fsp.open(filePath, 'r');
  try {
    for (const file of files) {
      throwIfAborted(signal);
      // Stored entries (weights) by large positioned reads; deflated ones, and anything odd, through yauzl.
      const { crc32, sha256 } = (await digestStoredEntry(handle, layout.fileSize, file.entry, onChunk, signal)) ?? (await digestThroughYauzl(zip, file.entry, onChunk, signal));
      if (crc32 !== file.entry.crc32) {
        throw digestMismatch('crc-mismatch', `Entry ${quoteName(file.name)} does not match its CRC-32: the file is corrupt.`);
      }
      results.push(checkedResource(file, sha256, declared, sidecars));
      report(true);
    }
  } finally {
    await handle.close();
  }
  if (files.length === 0) onProgress?.(0, 0);
  return results.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function digestThroughYauzl(zip: yauzl.ZipFile, entry: yauzl.Entry, onChunk: (bytes: number) => void, signal: AbortSignal | undefined): Promise<EntryDigest> {
  const sink = new DigestSink({ crc32: true, onChunk });
  const stream = await openEntryStream(zip, entry);
  try {
    await pipeline(stream, sink, signal ? { signal } : {});
  } catch (error) {
    if (isAbortError(error) || signal?.aborted) throw cancelledError();
    throw classifyReadError(error);
  }
  return { crc32: sink.crc32, sha256: sink.sha256Hex() };
}

/** A hashed resource checked against its sidecar and the manifest. */
function checkedResource(file: FileEntry, sha256: string, declared: ReadonlyMap<string, ManifestResource>, sidecars: ReadonlyMap<string, Record<string, string>>): PackageResourceInfo {
  const metadata = sidecars.get(file.name) ?? {};
  const sidecarSha = metadata.sha256;
  if (sidecarSha !== undefined && sidecarSha.toLowerCase() !== sha256) {
    throw digestMismatch('sidecar-sha256-mismatch', `${quoteName(file.name)} hashes to ${sha256}, but its sidecar says ${sidecarSha.slice(0, 80)}.`);
  }
  const listed = declared.get(file.name);
  if (listed !== undefined && listed.sha256 !== '' && listed.sha256.toLowerCase() !== sha256) {
    throw digestMismatch('manifest-sha256-mismatch', `${quoteName(file.name)} hashes to ${sha256}, but the manifest says ${listed.sha256.slice(0, 80)}.`);
  }
  return {
    path: file.name,
    name: listed?.name ?? resourceNameForEntryPath(file.name),
    type: listed?.resource_type ?? resourceTypeForEntryPath(file.name),
    size: file.entry.uncompressedSize,
    compressedSize: file.entry.compressedSize,
    compression: compressionOf(file.entry) ?? 'deflate',
    sha256,
    metadata,
  };
}

/**
 * Streams one entry's decompressed bytes (CRC-32 checked at the end). Meant for packages
 * already inspected; names are still matched exactly, never resolved as paths.
 */
export async function openPackageEntry(filePath: string, entryPath: string): Promise<NodeJS.ReadableStream> {
  if (entryPathDefect(entryPath) !== null || isDirectoryEntryName(entryPath)) {
    throw validationFailed('bad-entry-path', `${quoteName(entryPath)} is not a valid entry path.`);
  }
  const opened = await openZip(filePath);
  try {
    for (let record = await readNextEntry(opened.zip); record !== null; record = await readNextEntry(opened.zip)) {
      if (record.name !== entryPath) continue;
      if (compressionOf(record.entry) === null || record.entry.isEncrypted()) {
        throw invalidPackage('unsupported-compression', `Entry ${quoteName(entryPath)} cannot be decoded.`);
      }
      const stream = await openEntryStream(opened.zip, record.entry);
      const checked = new CrcCheck(record.entry.crc32, entryPath);
      stream.on('error', (error: unknown) => checked.destroy(toError(classifyReadError(error))));
      checked.on('close', () => {
        // A consumer that stops early: yauzl wants the stream unpiped before it is destroyed.
        if (!stream.destroyed) {
          stream.unpipe(checked);
          stream.destroy();
        }
      });
      return stream.pipe(checked);
    }
    throw new DepotError('NOT_FOUND', `The package has no entry ${quoteName(entryPath)}.`, { reason: 'entry-not-found' });
  } finally {
    // yauzl reference-counts the file: it stays open until the entry stream is done.
    opened.zip.close();
  }
}

/** Pass-through that fails at the end when the bytes do not match the entry's CRC-32. */
class CrcCheck extends Transform {
  private crc = 0;

  constructor(
    private readonly expected: number,
    private readonly entryPath: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.crc = zlib.crc32(chunk, this.crc);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.crc === this.expected ? null : digestMismatch('crc-mismatch', `Entry ${quoteName(this.entryPath)} does not match its CRC-32: the file is corrupt.`));
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Names come from untrusted files: quote them, escape controls, and keep messages short. */
function quoteName(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}
