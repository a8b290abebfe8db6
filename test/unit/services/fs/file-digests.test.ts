import { createHash, randomBytes } from 'node:crypto';
import { truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { digestFile } from '../../../../electron/services/fs/file-digests';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempFile(bytes: Buffer): string {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  const file = path.join(temp.dir, 'data.bin');
  writeFileSync(file, bytes);
  return file;
}

describe('digestFile', () => {
  const bytes = randomBytes(3 * 1024 * 1024 + 17);
  const expected = { blake2b512: createHash('blake2b512').update(bytes).digest('hex'), sha256: createHash('sha256').update(bytes).digest('hex') };

  it('gives the same digests on this thread and on workers', async () => {
    const file = tempFile(bytes);
    for (const workersFromBytes of [Number.MAX_SAFE_INTEGER, 0]) {
      const { digests, size } = await digestFile(file, ['blake2b512', 'sha256'], { workersFromBytes });
      expect(size).toBe(bytes.length);
      expect(digests.blake2b512.toString('hex')).toBe(expected.blake2b512);
      expect(digests.sha256.toString('hex')).toBe(expected.sha256);
    }
  });

  it('reports progress up to the whole file from the workers', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const file = path.join(temp.dir, 'sparse.bin');
    writeFileSync(file, '');
    truncateSync(file, 80 * 1024 * 1024);
    const seen: number[] = [];
    const { size } = await digestFile(file, ['sha256'], { workersFromBytes: 0, onProgress: (done) => seen.push(done) });
    expect(size).toBe(80 * 1024 * 1024);
    expect(seen.at(-1)).toBe(size);
    expect(seen.length).toBeGreaterThan(1);
  });

  it('stops its workers and rejects with the abort reason when cancelled', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const file = path.join(temp.dir, 'sparse.bin');
    writeFileSync(file, '');
    truncateSync(file, 4 * 1024 * 1024 * 1024);
    const controller = new AbortController();
    const hashing = digestFile(file, ['blake2b512', 'sha256'], { workersFromBytes: 0, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop hashing')), 50);
    const started = performance.now();
    await expect(hashing).rejects.toThrow('stop hashing');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('passes on read errors, from this thread and from a worker', async () => {
    await expect(digestFile('/nonexistent/file.bin', ['sha256'])).rejects.toMatchObject({ code: 'ENOENT' });
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    // A folder stats fine and only fails on read: the error comes from wherever the hashing runs.
    for (const workersFromBytes of [Number.MAX_SAFE_INTEGER, 0]) {
      await expect(digestFile(temp.dir, ['blake2b512', 'sha256'], { workersFromBytes })).rejects.toMatchObject({ code: 'EISDIR' });
    }
  });
});
