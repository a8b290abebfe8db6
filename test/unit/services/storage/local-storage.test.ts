import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, symlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { LocalStorage } from '../../../../electron/services/storage/local-storage';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function setup(): { root: string; storage: LocalStorage } {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  return { root: temp.dir, storage: new LocalStorage(temp.dir) };
}

describe('LocalStorage', () => {
  it('refuses traversal, absolute paths, hidden segments and symlink escapes', async () => {
    const { root, storage } = setup();
    for (const key of ['../outside', 'a/../../b', '/etc/passwd', 'a//b', '.storage-meta/x', 'a/.hidden', '']) {
      await expect(storage.put(key, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    const outside = makeTempDir();
    cleanups.push(outside.cleanup);
    symlinkSync(outside.dir, path.join(root, 'escape'));
    await expect(storage.put('escape/file', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(readdirSync(outside.dir)).toEqual([]);
  });

  it('keeps content type, Cache-Control and metadata, copies them, and counts usage', async () => {
    const { storage } = setup();
    await storage.put('a/one', Readable.from([Buffer.from('hello')]), { contentType: 'text/plain', cacheControl: 'no-cache', metadata: { Owner: 'me' } });
    expect(await storage.head('a/one')).toMatchObject({ size: 5, contentType: 'text/plain', cacheControl: 'no-cache', metadata: { owner: 'me' } });
    expect(await storage.copy('a/one', 'b/two')).toMatchObject({ key: 'b/two', size: 5, cacheControl: 'no-cache', metadata: { owner: 'me' } });
    expect((await buffer(await storage.get('b/two', { range: { start: 1, end: 3 } }))).toString()).toBe('ell');
    const usage = await storage.usage();
    expect(usage).toMatchObject({ objects: 2, bytes: 10 });
    expect(usage.capacityBytes).toBeGreaterThan(0);
    // The metadata folder is not an object.
    expect((await storage.list('')).objects.map((object) => object.key)).toEqual(['a/one', 'b/two']);
    await storage.delete('a/one');
    expect(await storage.head('a/one')).toBeNull();
    await expect(storage.get('a/one')).rejects.toMatchObject({ kind: 'NotFound', code: 'NOT_FOUND' });
    await expect(storage.copy('a/one', 'c')).rejects.toMatchObject({ kind: 'NotFound' });
  });

  it('a failed write leaves neither the object nor a temp file behind', async () => {
    const { root, storage } = setup();
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error('source broke'));
      },
    });
    await expect(storage.put('dir/object', failing)).rejects.toThrow('source broke');
    expect(await storage.head('dir/object')).toBeNull();
    mkdirSync(path.join(root, 'dir'), { recursive: true });
    expect(readdirSync(path.join(root, 'dir'))).toEqual([]);
  });
});
