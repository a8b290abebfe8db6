import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import { fsyncDirectory, tempPathFor } from '../fs/atomic-write';
import type { ByteRange, StorageBackend, StorageListPage, StoredObjectInfo } from './storage-backend';

const keyPattern = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Objects as files under one root. Keys can never reach outside it, and every write is atomic. */
export class LocalStorage implements StorageBackend {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = `local folder ${this.root}`;
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
  }

  /** Resolves a key to a path inside the root, refusing traversal, absolute paths and symlink escapes. */
  private async pathFor(key: string): Promise<string> {
    if (!keyPattern.test(key) || key.split('/').some((segment) => segment === '.' || segment === '..')) {
      throw new DepotError('VALIDATION_FAILED', `Invalid storage key: ${JSON.stringify(key.slice(0, 200))}`, { reason: 'invalid-key' });
    }
    const target = path.join(this.root, ...key.split('/'));
    // A symlinked folder inside the root could point anywhere: check the real parent path.
    const parent = path.dirname(target);
    const realParent = await fsp.realpath(parent).catch(() => null);
    const realRoot = await fsp.realpath(this.root);
    if (realParent !== null && realParent !== realRoot && !realParent.startsWith(realRoot + path.sep)) {
      throw new DepotError('FORBIDDEN', `Storage key ${key} leaves the storage folder.`, { reason: 'symlink-escape' });
    }
    return target;
  }

  async put(key: string, body: Readable, options: { signal?: AbortSignal } = {}): Promise<StoredObjectInfo> {
    const target = await this.pathFor(key);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    const temp = tempPathFor(target);
    try {
      await pipeline(body, createWriteStream(temp, { flags: 'wx' }), options.signal ? { signal: options.signal } : {});
      await syncFile(temp);
      await fsp.rename(temp, target);
      await fsyncDirectory(path.dirname(target));
    } catch (error) {
      await fsp.rm(temp, { force: true });
      throw error;
    }
    return this.infoOf(key, target);
  }

  async putFile(key: string, filePath: string, options: { signal?: AbortSignal } = {}): Promise<StoredObjectInfo> {
    const target = await this.pathFor(key);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await syncFile(filePath);
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
      if (error.code === 'ENOENT') throw new DepotError('NOT_FOUND', `No object ${key} in ${this.description}.`);
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
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<StorageListPage> {
    const limit = options.limit ?? 1000;
    const keys: string[] = [];
    const walk = async (dir: string, relative: string): Promise<void> => {
      const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const key = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), key);
        else if (entry.isFile() && !entry.name.includes('.tmp-') && key.startsWith(prefix)) keys.push(key);
      }
    };
    await walk(this.root, '');
    keys.sort();
    const start = options.cursor ? keys.findIndex((key) => key > (options.cursor as string)) : 0;
    const slice = start < 0 ? [] : keys.slice(start, start + limit);
    const objects = await Promise.all(slice.map((key) => this.infoOf(key, path.join(this.root, ...key.split('/')))));
    const last = slice.at(-1);
    return { objects, nextCursor: start >= 0 && start + limit < keys.length && last !== undefined ? last : null };
  }

  private async infoOf(key: string, file: string): Promise<StoredObjectInfo> {
    const stats = await fsp.stat(file);
    return { key, size: stats.size, lastModified: stats.mtime };
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
