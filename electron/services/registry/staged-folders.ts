import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DepotError } from '../../../shared/errors';
import type { FolderInspection, FolderSource, StagedPackage } from '../../../shared/domain/registry';
import { isStrictSemver, isValidPackageName } from '../../../shared/packages/manifest';
import { collectFolder, entryPathDefect, packPackage, parseManifest, type PackInputFile } from '../packages/format';
import { resourceTypeForEntryPath } from '../packages/format/resource-type';
import type { JobHandle, JobRunner } from '../jobs/job-runner';
import type { StagingArea } from './staging-area';

export interface PackFolderFields {
  name: string;
  version: string;
  description?: string | null;
  author?: string | null;
  license?: string | null;
}

export interface StagedFoldersOptions {
  tmpDir: string;
  staging: StagingArea;
  jobs: JobRunner;
  maxPackageBytes: () => number;
  /** Files one uploaded folder may hold (a package's entry limit is the real bound). */
  maxFiles?: number;
}

interface UploadedFolder {
  dir: string;
  name: string;
  files: Set<string>;
  bytes: number;
  /** Paths being received right now: the same path twice at once is refused. */
  receiving: Set<string>;
}

const listedFiles = 500;
const maxManifestBytes = 1024 * 1024;

/**
 * Folders on their way to becoming packages: the browser uploads a dropped folder's files here one
 * by one (the desktop passes the folder's path), the user sees what packing would produce, names
 * the package, and a job packs it into the staging area — from there it is inspected and published
 * like a dropped `.torshpkg`.
 */
export class StagedFolders {
  private readonly uploaded = new Map<string, UploadedFolder>();
  private readonly root: string;
  private readonly maxFiles: number;

  constructor(private readonly options: StagedFoldersOptions) {
    this.root = path.join(options.tmpDir, 'staged-folders');
    this.maxFiles = options.maxFiles ?? 10_000;
  }

  /** `folderName` is only shown and used to suggest a package name; the files get their own paths. */
  async create(folderName = 'dropped folder'): Promise<{ id: string }> {
    const id = randomBytes(16).toString('hex');
    const dir = path.join(this.root, id);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    this.uploaded.set(id, { dir, name: path.basename(folderName).slice(0, 200) || 'dropped folder', files: new Set(), bytes: 0, receiving: new Set() });
    return { id };
  }

  /** Receives one file of an uploaded folder at its relative path; bad paths and over-limit totals change nothing. */
  async receiveFile(id: string, relativePath: string, body: Readable, signal?: AbortSignal): Promise<{ path: string; size: number }> {
    const folder = this.folder(id);
    const normalized = relativePath.normalize('NFC');
    const defect = entryPathDefect(normalized);
    if (defect !== null || normalized.endsWith('/')) {
      throw new DepotError('VALIDATION_FAILED', `"${relativePath.slice(0, 200)}" is not a usable relative file path (${defect ?? 'folder'}).`, { reason: `folder-path-${defect ?? 'directory'}` });
    }
    const key = normalized.toLowerCase();
    if (folder.files.has(key) || folder.receiving.has(key)) throw new DepotError('CONFLICT', `The folder already has a file at ${normalized}.`, { reason: 'folder-duplicate-path' });
    if (folder.files.size + folder.receiving.size >= this.maxFiles) throw new DepotError('PAYLOAD_TOO_LARGE', `A folder may hold at most ${this.maxFiles} files.`, { reason: 'folder-too-many-files' });
    const destination = path.join(folder.dir, ...normalized.split('/'));
    // Belt and braces on top of the path check: never write outside the folder.
    if (!destination.startsWith(`${folder.dir}${path.sep}`)) throw new DepotError('VALIDATION_FAILED', 'The path leaves the folder.', { reason: 'folder-path-zip-slip' });

    folder.receiving.add(key);
    const limit = this.options.maxPackageBytes();
    const temp = `${destination}.${randomBytes(6).toString('hex')}.part`;
    let size = 0;
    const meter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        size += chunk.length;
        if (folder.bytes + size > limit) callback(new DepotError('PAYLOAD_TOO_LARGE', `The folder's files add up to more than the package limit of ${limit} bytes.`, { reason: 'folder-too-large' }));
        else callback(null, chunk);
      },
    });
    try {
      await fsp.mkdir(path.dirname(destination), { recursive: true });
      await pipeline(body, meter, createWriteStream(temp, { flags: 'wx', mode: 0o600 }), signal ? { signal } : {});
      await fsp.rename(temp, destination);
      folder.files.add(key);
      folder.bytes += size;
      return { path: normalized, size };
    } catch (error) {
      await fsp.rm(temp, { force: true });
      throw error;
    } finally {
      folder.receiving.delete(key);
    }
  }

  async inspect(source: FolderSource): Promise<FolderInspection> {
    const { dir, folderName } = await this.locate(source);
    const files = await collectFolder(dir);
    if (files.length === 0) throw new DepotError('VALIDATION_FAILED', `${folderName} has no files to pack.`, { reason: 'folder-empty' });
    const sized = await Promise.all(files.map(async (file) => ({ file, size: (await fsp.stat(file.sourcePath)).size })));
    const suggested = await suggestIdentity(dir, folderName);
    return {
      folderName,
      fileCount: files.length,
      totalBytes: sized.reduce((sum, entry) => sum + entry.size, 0),
      files: sized.slice(0, listedFiles).map(({ file, size }) => ({ entryPath: entryPathOf(file), type: file.type ?? resourceTypeForEntryPath(entryPathOf(file)), size })),
      truncated: files.length > listedFiles,
      suggestedName: suggested.name,
      suggestedVersion: suggested.version,
    };
  }

  /** Packs the folder into the staging area as a job; the result is a staged package ready to inspect and publish. */
  pack(source: FolderSource, fields: PackFolderFields): JobHandle<StagedPackage> {
    if (!isValidPackageName(fields.name)) {
      throw new DepotError('VALIDATION_FAILED', `"${fields.name}" is not a valid package name: lowercase letters, digits, "-", "_", ".", optionally one "scope/".`, { reason: 'bad-name' });
    }
    if (!isStrictSemver(fields.version)) throw new DepotError('VALIDATION_FAILED', `"${fields.version}" is not a strict semantic version (like 1.2.3).`, { reason: 'bad-version' });
    if (source.kind === 'uploaded') this.folder(source.id);
    const label = `${fields.name}@${fields.version}`;
    return this.options.jobs.start('package-pack', `Pack ${label}`, { label }, async (context) => {
      const { dir } = await this.locate(source);
      const files = await collectFolder(dir);
      if (files.length === 0) throw new DepotError('VALIDATION_FAILED', 'The folder has no files to pack.', { reason: 'folder-empty' });
      const output = path.join(this.options.tmpDir, 'staging', `packed-${randomBytes(8).toString('hex')}.torshpkg`);
      try {
        const result = await packPackage(
          { name: fields.name, version: fields.version, files, description: fields.description ?? null, author: fields.author ?? null, license: fields.license ?? null },
          output,
          { signal: context.signal, onProgress: (done, total) => context.reportProgress(done / Math.max(total, 1), `Packing ${files.length} file(s)`) },
        );
        if (result.size > this.options.maxPackageBytes()) {
          throw new DepotError('PAYLOAD_TOO_LARGE', `The packed package (${result.size} bytes) is larger than the limit of ${this.options.maxPackageBytes()} bytes.`);
        }
        const fileName = `${fields.name.replace('/', '__')}-${fields.version}.torshpkg`;
        const staged = this.options.staging.adopt(output, fileName, result.size, result.sha256);
        if (source.kind === 'uploaded') await this.discard(source.id);
        return staged;
      } catch (error) {
        await fsp.rm(output, { force: true });
        throw error;
      }
    });
  }

  async discard(id: string): Promise<void> {
    const folder = this.uploaded.get(id);
    if (!folder) return;
    this.uploaded.delete(id);
    await fsp.rm(folder.dir, { recursive: true, force: true });
  }

  async discardAll(): Promise<void> {
    await Promise.all([...this.uploaded.keys()].map((id) => this.discard(id)));
  }

  private folder(id: string): UploadedFolder {
    const folder = this.uploaded.get(id);
    if (!folder) throw new DepotError('NOT_FOUND', 'That folder upload is gone (the host restarted or it was discarded); drop the folder again.', { reason: 'folder-not-staged' });
    return folder;
  }

  private async locate(source: FolderSource): Promise<{ dir: string; folderName: string }> {
    if (source.kind === 'uploaded') {
      const folder = this.folder(source.id);
      return { dir: folder.dir, folderName: folder.name };
    }
    if (!path.isAbsolute(source.path)) throw new DepotError('VALIDATION_FAILED', 'A folder path must be absolute.', { reason: 'folder-path-relative' });
    const stats = await fsp.stat(source.path).catch(() => null);
    if (!stats?.isDirectory()) throw new DepotError('NOT_FOUND', `No folder at ${source.path}.`, { reason: 'folder-not-found' });
    return { dir: source.path, folderName: path.basename(source.path) };
  }
}

function entryPathOf(file: PackInputFile): string {
  return file.entryPath ?? path.basename(file.sourcePath);
}

/** A folder extracted from a package names itself in its manifest; else the folder's name may be a usable package name. */
async function suggestIdentity(dir: string, folderName: string): Promise<{ name: string | null; version: string | null }> {
  const manifestPath = path.join(dir, 'MANIFEST.json');
  const stats = await fsp.stat(manifestPath).catch(() => null);
  if (stats?.isFile() && stats.size <= maxManifestBytes) {
    try {
      const manifest = parseManifest(await fsp.readFile(manifestPath));
      return { name: manifest.name, version: manifest.version };
    } catch {
      // Not a usable manifest: fall back to the folder's name.
    }
  }
  const candidate = folderName.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-._]+|[-._]+$/g, '');
  return { name: isValidPackageName(candidate) ? candidate : null, version: null };
}
