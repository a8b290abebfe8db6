import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, statSync, symlinkSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { build } from 'esbuild';
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

describe('LocalStorage under a kill', () => {
  it('a writer killed mid-object leaves no object and no metadata, only a temp file that listing ignores', async () => {
    const { root, storage } = setup();
    const scratch = makeTempDir();
    cleanups.push(scratch.cleanup);
    const bundle = path.join(scratch.dir, 'local-put-child.cjs');
    await build({ entryPoints: [path.join(__dirname, 'fixtures', 'local-put-child.ts')], outfile: bundle, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' });
    const child = spawn(process.execPath, [bundle, root, 'models/big.bin'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      // Wait until the temp file holds some bytes (polling, not a fixed sleep), then kill.
      const deadline = Date.now() + 30_000;
      let tempBytes = 0;
      while (tempBytes < 4 * 1024 * 1024 && Date.now() < deadline) {
        const names = existsSync(path.join(root, 'models')) ? readdirSync(path.join(root, 'models')) : [];
        const temp = names.find((name) => name.includes('.tmp-'));
        tempBytes = temp ? statSync(path.join(root, 'models', temp)).size : 0;
        if (tempBytes < 4 * 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(tempBytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(await storage.head('models/big.bin')).toBeNull();
    expect((await storage.list('')).objects).toEqual([]);
    expect(existsSync(path.join(root, '.storage-meta', 'models', 'big.bin.json'))).toBe(false);
    // The store still works for that key afterwards.
    await storage.put('models/big.bin', Readable.from([Buffer.from('done')]));
    expect((await buffer(await storage.get('models/big.bin'))).toString()).toBe('done');
  });
});
