import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import { fsyncDirectory, fsyncFile, tempPathFor, writeFileAtomic } from '../fs/atomic-write';
import { StorageError } from './storage-errors';
import type { ByteRange, PutOptions, StorageBackend, StorageListPage, StorageUsage, StoredObjectInfo } from './storage-backend';

// Segments may not start with a dot: those names are our temp files and the metadata folder.
const keyPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;
/** Content type, Cache-Control and user metadata of an object, kept beside the tree. */
const metaDir = '.storage-meta';

interface SidecarMeta {
  contentType?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
}

/** Objects as files under one root. Keys can never reach outside it, and every write is atomic. */
export class LocalStorage implements StorageBackend {
  readonly kind = 'local' as const;
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = `local folder ${this.root}`;
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
  }

  private assertKey(key: string): void {
    if (!keyPattern.test(key) || key.split('/').some((segment) => segment === '.' || segment === '..')) {
      throw new DepotError('VALIDATION_FAILED', `Invalid storage key: ${JSON.stringify(key.slice(0, 200))}`, { reason: 'invalid-key' });
    }
  }

  /** Resolves a key to a path inside the root, refusing traversal, absolute paths and symlink escapes. */
  private async pathFor(key: string): Promise<string> {
    this.assertKey(key);
    const target = path.join(this.root, ...key.split('/'));
    // A symlinked folder inside the root could point anywhere: check the real parent path.
    const parent = path.dirname(target);
    const realParent = await fsp.realpath(parent).catch(() => null);
    const realRoot = await fsp.realpath(this.root).catch(() => this.root);
    if (realParent !== null && realParent !== realRoot && !realParent.startsWith(realRoot + path.sep)) {
      throw new DepotError('FORBIDDEN', `Storage key ${key} leaves the storage folder.`, { reason: 'symlink-escape' });
    }
    return target;
  }

  private metaPathFor(key: string): string {
    return path.join(this.root, metaDir, ...key.split('/')) + '.json';
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<StoredObjectInfo> {
    const target = await this.pathFor(key);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    const temp = tempPathFor(target);
    try {
      const stages: Array<Readable | Transform> = [body];
      if (options.onProgress) stages.push(progressCounter(options.onProgress));
      await pipeline([...stages, createWriteStream(temp, { flags: 'wx' })], options.signal ? { signal: options.signal } : {});
      await fsyncFile(temp);
      await this.writeMeta(key, options);
      await fsp.rename(temp, target);
      await fsyncDirectory(path.dirname(target));
    } catch (error) {
      await fsp.rm(temp, { force: true });
      throw error;
    }
    return this.infoOf(key, target);
  }

  async putFile(key: string, filePath: string, options: PutOptions = {}): Promise<StoredObjectInfo> {
    const target = await this.pathFor(key);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await fsyncFile(filePath);
    await this.writeMeta(key, options);
    try {
      await fsp.rename(filePath, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      // Another file system: copy through a temp file instead.
      return this.put(key, createReadStream(filePath), options);
    }
    await fsyncDirectory(path.dirname(target));
    return this.infoOf(key, target);
  }

  async get(key: string, options: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<Readable> {
    const target = await this.pathFor(key);
    const handle = await fsp.open(target, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new StorageError('NotFound', `No object ${key} in ${this.description}`);
      throw error;
    });
    return handle.createReadStream({
      ...(options.range ? { start: options.range.start, end: options.range.end } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      highWaterMark: 1024 * 1024,
    });
  }

  async head(key: string): Promise<StoredObjectInfo | null> {
    const target = await this.pathFor(key);
    try {
      return await this.infoOf(key, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(await this.pathFor(key), { force: true });
    await fsp.rm(this.metaPathFor(key), { force: true });
  }

  async copy(sourceKey: string, targetKey: string): Promise<StoredObjectInfo> {
    const body = await this.get(sourceKey);
    return this.put(targetKey, body, await this.readMeta(sourceKey));
  }

  private async allKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (dir: string, relative: string): Promise<void> => {
      const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        const key = relative ? `${relative}/${entry.name}` : entry.name;
        // Only descend where the prefix can still match.
        if (entry.isDirectory() && (key.startsWith(prefix) || prefix.startsWith(`${key}/`))) await walk(path.join(dir, entry.name), key);
        else if (entry.isFile() && key.startsWith(prefix)) keys.push(key);
      }
    };
    await walk(this.root, '');
    return keys.sort();
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<StorageListPage> {
    const limit = options.limit ?? 1000;
    const keys = await this.allKeys(prefix);
    const start = options.cursor ? keys.findIndex((key) => key > (options.cursor as string)) : 0;
    const slice = start < 0 ? [] : keys.slice(start, start + limit);
    const objects = await Promise.all(slice.map((key) => this.infoOf(key, path.join(this.root, ...key.split('/')))));
    const last = slice.at(-1);
    return { objects, nextCursor: start >= 0 && start + limit < keys.length && last !== undefined ? last : null };
  }

  async usage(prefix = ''): Promise<StorageUsage> {
    let objects = 0;
    let bytes = 0;
    for (const key of await this.allKeys(prefix)) {
      const stats = await fsp.stat(path.join(this.root, ...key.split('/'))).catch(() => null);
      if (!stats) continue;
      objects += 1;
      bytes += stats.size;
    }
    const disk = await fsp.statfs(this.root).catch(() => null);
    return { objects, bytes, capacityBytes: disk ? disk.blocks * disk.bsize : null };
  }

  async check(): Promise<void> {
    await this.init();
    await fsp.access(this.root, fsp.constants.W_OK).catch((error: NodeJS.ErrnoException) => {
      throw new StorageError('AccessDenied', `Cannot write to ${this.root}`, { backendMessage: error.message });
    });
  }

  private async writeMeta(key: string, options: PutOptions): Promise<void> {
    const meta: SidecarMeta = {
      ...(options.contentType ? { contentType: options.contentType } : {}),
      ...(options.cacheControl ? { cacheControl: options.cacheControl } : {}),
      ...(options.metadata && Object.keys(options.metadata).length > 0 ? { metadata: lowerCaseNames(options.metadata) } : {}),
    };
    const file = this.metaPathFor(key);
    if (Object.keys(meta).length === 0) {
      await fsp.rm(file, { force: true });
      return;
    }
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(meta));
  }

  private async readMeta(key: string): Promise<SidecarMeta> {
    try {
      return JSON.parse(await fsp.readFile(this.metaPathFor(key), 'utf8')) as SidecarMeta;
    } catch {
      return {};
    }
  }

  private async infoOf(key: string, file: string): Promise<StoredObjectInfo> {
    const stats = await fsp.stat(file);
    const meta = await this.readMeta(key);
    return {
      key,
      size: stats.size,
      lastModified: stats.mtime,
      etag: null,
      contentType: meta.contentType ?? null,
      cacheControl: meta.cacheControl ?? null,
      metadata: meta.metadata ?? {},
    };
  }
}

export function lowerCaseNames(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name.toLowerCase(), value]));
}

/** Passes bytes through, reporting the running total. */
export function progressCounter(onProgress: (bytes: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onProgress(total);
      callback(null, chunk);
    },
  });
}
