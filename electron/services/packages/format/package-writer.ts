import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp, type ReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { isAbortError } from '../../../../shared/errors';
import {
  type Manifest,
  type ManifestModule,
  type ManifestResource,
  type ResourceType,
  isResourceType,
  isStrictSemver,
  isValidPackageName,
  manifestModuleSchema,
  manifestSchema,
  packageFormatVersion,
} from '../../../../shared/packages/manifest';
import { fsyncDirectory, fsyncFile } from '../../fs/atomic-write';
import { DigestTransform } from './digest-stream';
import { describeEntryPathDefect, entryPathDefect, entryPathKey } from './entry-path';
import { isValidVersionRange } from './manifest-parser';
import { cancelledError, throwIfAborted, validationFailed } from './package-errors';
import { manifestEntryName, sidecarSuffix } from './package-reader';
import { resourceNameForEntryPath, resourceTypeForEntryPath, resourceTypeFromExtension, typeFolderFor, typeFolderOf } from './resource-type';
import { defaultPackageLimits } from './zip-limits';
import { useNativeCrc32InYazl } from './yazl-native-crc32';

useNativeCrc32InYazl();

export interface PackInputFile {
  sourcePath: string;
  /** Defaults to `<type folder>/<basename of sourcePath>`. */
  entryPath?: string;
  /** Defaults to the entry path's folder, else the extension mapping. */
  type?: ResourceType;
}

export interface PackInput {
  name: string;
  version: string;
  files: PackInputFile[];
  description?: string | null;
  author?: string | null;
  license?: string | null;
  dependencies?: Record<string, string>;
  metadata?: Record<string, string>;
  modules?: ManifestModule[];
}

export interface PackOptions {
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, totalBytes: number) => void;
  now?: () => Date;
}

export interface PackResult {
  /** Hex SHA-256 of the whole output file, hashed while writing. */
  sha256: string;
  size: number;
  manifest: Manifest;
}

/** Already compressed, or weights that deflate poorly and slowly: stored as-is. */
const storedExtensions: ReadonlySet<string> = new Set([
  '.pt', '.pth', '.torsh', '.safetensors', '.bin', '.dat', '.gz', '.tgz', '.zst', '.zip', '.xz', '.bz2', '.lz4', '.7z',
  '.png', '.jpg', '.jpeg', '.webp', '.npz', '.onnx',
]);
export const storeAboveBytes = 64 * 1024 * 1024;

export function shouldStoreUncompressed(entryPath: string, size: number): boolean {
  return size > storeAboveBytes || storedExtensions.has(path.posix.extname(entryPath).toLowerCase());
}

interface PlannedFile {
  sourcePath: string;
  entryPath: string;
  type: ResourceType;
  size: number;
  compress: boolean;
}

const progressStepBytes = 1024 * 1024;
const fileMode = 0o100644;

/**
 * Writes a .torshpkg the reference crate can import (typed folders, `.metadata` sidecars
 * with `sha256`) and that lists every resource in the manifest. Streams every file, writes
 * to a temp file next to the output, and renames it into place only when complete.
 */
export async function packPackage(input: PackInput, outputPath: string, options: PackOptions = {}): Promise<PackResult> {
  const { signal, onProgress } = options;
  const now = (options.now ?? (() => new Date()))();
  throwIfAborted(signal);
  validatePackageFields(input);
  const planned = await planFiles(input.files);
  throwIfAborted(signal);

  const outputDir = path.dirname(path.resolve(outputPath));
  await fsp.mkdir(outputDir, { recursive: true });
  const tempPath = `${path.resolve(outputPath)}.tmp-${randomBytes(6).toString('hex')}`;

  const zip = new yazl.ZipFile();
  const output = new DigestTransform();
  // `wx`: a stale temp of the same name is never silently appended to or followed as a symlink.
  // Large reads and batched writes: fewer system calls per GiB (64 KiB reads and 16 KiB writes before).
  const fileStream = createWriteStream(tempPath, { flags: 'wx', mode: 0o644, highWaterMark: 4 * 1024 * 1024 });
  let currentSource: ReadStream | undefined;

  // Everything that can fail asynchronously funnels into one rejection.
  let fail: (error: unknown) => void = () => undefined;
  const failure = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  failure.catch(() => undefined);
  const onAbort = (): void => fail(cancelledError());
  signal?.addEventListener('abort', onAbort, { once: true });
  zip.on('error', (error: unknown) => fail(error));
  const written = pipeline(zip.outputStream, output, fileStream);
  written.catch((error: unknown) => fail(error));
  const race = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, failure]);

  const totalBytes = planned.reduce((sum, file) => sum + file.size, 0);
  let doneBytes = 0;
  let reportedBytes = 0;
  const report = (force: boolean): void => {
    if (onProgress && (force || doneBytes - reportedBytes >= progressStepBytes)) {
      reportedBytes = doneBytes;
      onProgress(doneBytes, totalBytes);
    }
  };

  try {
    const resources: ManifestResource[] = [];
    const entryOptions = { mtime: now, mode: fileMode };
    for (const file of planned) {
      throwIfAborted(signal);
      const digest = new DigestTransform({
        onChunk: (bytes) => {
          doneBytes += bytes;
          report(false);
        },
      });
      const source = createReadStream(file.sourcePath, { highWaterMark: 1024 * 1024 });
      currentSource = source;
      source.on('error', (error) => digest.destroy(error));
      digest.on('error', (error) => fail(error));
      source.pipe(digest);
      // yazl checks `size` against the bytes it actually gets (a file changed under us fails).
      zip.addReadStream(digest, file.entryPath, { ...entryOptions, size: file.size, compress: file.compress });
      await race(endOf(digest));
      currentSource = undefined;
      const sha256 = digest.sha256Hex();
      zip.addBuffer(Buffer.from(JSON.stringify({ sha256 }), 'utf8'), `${file.entryPath}${sidecarSuffix}`, { ...entryOptions, compress: true });
      resources.push({
        name: resourceNameForEntryPath(file.entryPath),
        resource_type: file.type,
        size: file.size,
        sha256,
        compression: file.compress ? 'deflate' : null,
      });
      report(true);
    }
    if (planned.length === 0) onProgress?.(0, 0);

    const manifest = buildManifest(input, resources, now);
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2), 'utf8'), manifestEntryName, { ...entryOptions, compress: true });
    zip.end();
    await race(written);
    throwIfAborted(signal);
    await fsyncFile(tempPath);
    await fsp.rename(tempPath, outputPath);
    await fsyncDirectory(outputDir);
    return { sha256: output.sha256Hex(), size: output.bytes, manifest };
  } catch (error) {
    // Abandoned streams may still report late errors (yazl keeps writing): swallow them, then tear down.
    const abandoned: Array<NodeJS.EventEmitter | undefined> = [currentSource, zip.outputStream, output, fileStream];
    for (const stream of abandoned) stream?.on('error', () => undefined);
    currentSource?.destroy();
    if (zip.outputStream instanceof Readable) zip.outputStream.destroy();
    output.destroy();
    fileStream.destroy();
    await written.catch(() => undefined);
    await fsp.rm(tempPath, { force: true });
    throw isAbortError(error) || signal?.aborted ? cancelledError() : error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function endOf(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('error', reject);
  });
}

function buildManifest(input: PackInput, resources: ManifestResource[], now: Date): Manifest {
  const manifest: Manifest = {
    name: input.name,
    version: input.version,
    format_version: packageFormatVersion,
    created_at: now.toISOString(),
    author: input.author ?? null,
    description: input.description ?? null,
    license: input.license ?? null,
    modules: input.modules ?? [],
    resources,
    dependencies: { ...(input.dependencies ?? {}) },
    metadata: { ...(input.metadata ?? {}) },
    signature: null,
  };
  // Our own reader must accept what we write; a schema failure here is a bug, not bad input.
  manifestSchema.parse(manifest);
  return manifest;
}

function validatePackageFields(input: PackInput): void {
  if (typeof input.name !== 'string' || !isValidPackageName(input.name)) {
    throw validationFailed('bad-name', `Invalid package name "${String(input.name).slice(0, 100)}": use lowercase letters, digits, "-", "_", ".", and at most one "scope/" prefix.`);
  }
  if (typeof input.version !== 'string' || !isStrictSemver(input.version)) {
    throw validationFailed('bad-semver', `Invalid version "${String(input.version).slice(0, 100)}": expected strict semver MAJOR.MINOR.PATCH[-pre][+build].`);
  }
  for (const [dependency, range] of Object.entries(input.dependencies ?? {})) {
    if (!isValidPackageName(dependency)) throw validationFailed('bad-dependency', `Dependency name "${dependency.slice(0, 100)}" is not a valid package name.`);
    if (typeof range !== 'string' || !isValidVersionRange(range)) {
      throw validationFailed('bad-dependency', `Dependency "${dependency}" has an invalid version requirement "${String(range).slice(0, 100)}".`);
    }
  }
  for (const [key, value] of Object.entries(input.metadata ?? {})) {
    if (typeof value !== 'string') throw validationFailed('bad-metadata', `Metadata "${key.slice(0, 100)}" must be a string.`);
  }
  for (const field of ['description', 'author', 'license'] as const) {
    const value = input[field];
    if (value !== undefined && value !== null && typeof value !== 'string') throw validationFailed('bad-manifest-field', `${field} must be a string or null.`);
  }
  for (const module of input.modules ?? []) {
    if (!manifestModuleSchema.safeParse(module).success) throw validationFailed('bad-module', `Module "${String(module.name).slice(0, 100)}" is not a valid module entry.`);
  }
  if (!Array.isArray(input.files)) throw validationFailed('bad-files', 'files must be a list.');
}

/** Resolves every file's entry path and type, and stats it, before anything is written. */
async function planFiles(files: readonly PackInputFile[]): Promise<PlannedFile[]> {
  // Each resource also gets a sidecar, plus one manifest: stay within what our reader accepts.
  if (files.length * 2 + 1 > defaultPackageLimits.maxEntries) {
    throw validationFailed('too-many-files', `A package holds at most ${Math.floor((defaultPackageLimits.maxEntries - 1) / 2)} files.`);
  }
  const planned: PlannedFile[] = [];
  const keys = new Set<string>();
  let totalBytes = 0;
  for (const file of files) {
    const { entryPath, type } = resolveEntry(file);
    const key = entryPathKey(entryPath);
    if (keys.has(key)) throw validationFailed('duplicate-entry', `Two files would both be written as "${entryPath}".`);
    keys.add(key);
    const size = await sourceFileSize(file.sourcePath);
    totalBytes += size;
    if (totalBytes > defaultPackageLimits.maxTotalUncompressedBytes) {
      throw validationFailed('package-too-large', `The files add up to more than ${defaultPackageLimits.maxTotalUncompressedBytes} bytes.`);
    }
    planned.push({ sourcePath: file.sourcePath, entryPath, type, size, compress: !shouldStoreUncompressed(entryPath, size) });
  }
  for (const file of planned) {
    const segments = entryPathKey(file.entryPath).split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      if (keys.has(segments.slice(0, depth).join('/'))) {
        throw validationFailed('entry-path-conflict', `"${file.entryPath}" would lie inside another file's path.`);
      }
    }
  }
  return planned;
}

function resolveEntry(file: PackInputFile): { entryPath: string; type: ResourceType } {
  if (typeof file.sourcePath !== 'string' || file.sourcePath.length === 0) throw validationFailed('bad-source-path', 'Every file needs a source path.');
  if (file.type !== undefined && !isResourceType(file.type)) throw validationFailed('bad-resource-type', `Unknown resource type "${String(file.type).slice(0, 50)}".`);
  let entryPath: string;
  let type: ResourceType;
  if (file.entryPath === undefined) {
    type = file.type ?? resourceTypeFromExtension(file.sourcePath);
    entryPath = `${typeFolderFor(type)}/${path.basename(file.sourcePath).normalize('NFC')}`;
  } else {
    entryPath = file.entryPath;
    const defect = entryPathDefect(entryPath);
    if (defect !== null || entryPath.endsWith('/')) {
      throw validationFailed('bad-entry-path', `Entry path "${entryPath.slice(0, 200)}" ${defect ? describeEntryPathDefect(defect) : 'names a directory'}.`);
    }
    type = file.type ?? resourceTypeForEntryPath(entryPath);
  }
  if (entryPath === manifestEntryName || entryPath.endsWith(sidecarSuffix)) {
    throw validationFailed('reserved-entry-path', `"${entryPath.slice(0, 200)}" is reserved: MANIFEST.json and *.metadata entries are written by the packer.`);
  }
  // The manifest maps (type, name) to `<type folder>/<name>`: the folder must agree with the type.
  if (typeFolderOf(entryPath) !== typeFolderFor(type)) {
    throw validationFailed('entry-type-mismatch', `"${entryPath.slice(0, 200)}" must lie under ${typeFolderFor(type)}/ for a ${type} resource.`);
  }
  return { entryPath, type };
}

async function sourceFileSize(sourcePath: string): Promise<number> {
  try {
    const stats = await fsp.stat(sourcePath);
    if (!stats.isFile()) throw validationFailed('source-not-a-file', `"${sourcePath}" is not a regular file.`);
    return stats.size;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') throw validationFailed('source-not-found', `"${sourcePath}" does not exist.`);
    throw error;
  }
}
