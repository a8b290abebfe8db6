import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync, symlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { BlobStore } from '../../../../electron/services/blobs/blob-store';
import { LocalStorage } from '../../../../electron/services/storage/local-storage';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function setup(verifyOnRead: boolean): { root: string; scratch: string; store: BlobStore } {
  const root = makeTempDir();
  const scratch = makeTempDir();
  cleanups.push(root.cleanup, scratch.cleanup);
  return { root: root.dir, scratch: scratch.dir, store: new BlobStore(new LocalStorage(root.dir), { verifyOnRead: () => verifyOnRead }) };
}

function scratchFile(dir: string, bytes: Buffer): { file: string; digest: string } {
  const file = path.join(dir, `blob-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, bytes);
  return { file, digest: createHash('sha256').update(bytes).digest('hex') };
}

describe('BlobStore on LocalStorage', () => {
  it('stores identical bytes once under blobs/sha256/<hex> and reads ranges', async () => {
    const { root, scratch, store } = setup(false);
    const bytes = randomBytes(100_000);
    const first = scratchFile(scratch, bytes);
    expect(await store.storeFile(first.digest, first.file, bytes.length)).toBe(true);
    const second = scratchFile(scratch, bytes);
    expect(await store.storeFile(second.digest, second.file, bytes.length)).toBe(false);
    expect(readdirSync(path.join(root, 'blobs', 'sha256'))).toEqual([first.digest]);
    expect((await buffer(await store.open(first.digest, { start: 10, end: 19 }))).equals(bytes.subarray(10, 20))).toBe(true);
  });

  it('with verify-on-read, a corrupted blob fails the read instead of serving wrong bytes', async () => {
    const { root, scratch, store } = setup(true);
    const bytes = randomBytes(50_000);
    const { file, digest } = scratchFile(scratch, bytes);
    await store.storeFile(digest, file, bytes.length);
    expect((await buffer(await store.open(digest))).equals(bytes)).toBe(true);
    const flipped = Buffer.from(bytes);
    flipped[123] = (flipped[123] ?? 0) ^ 0xff;
    writeFileSync(path.join(root, 'blobs', 'sha256', digest), flipped);
    await expect(buffer(await store.open(digest))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('refuses keys that leave the storage folder, including through a symlinked folder', async () => {
    const { root, scratch } = setup(false);
    const storage = new LocalStorage(root);
    for (const key of ['../x', '/etc/passwd', 'a/../../x', 'a//b', 'a\\b']) {
      await expect(storage.head(key)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    mkdirSync(path.join(scratch, 'outside'));
    symlinkSync(path.join(scratch, 'outside'), path.join(root, 'escape'));
    await expect(storage.head('escape/file')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(() => new BlobStore(storage).keyFor('not-a-digest')).toThrow(/SHA-256/);
  });
});
