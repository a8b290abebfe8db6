import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectRoot, runCliProcess } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';

// 2 GiB through the built CLI, encrypt then decrypt, each in a child whose peak RSS we read back.
// The CLI alone (zod, better-sqlite3…) starts at ~68 MiB, so the bound is on what encrypting adds to the
// same CLI printing its version: scrypt's 16 MiB, two 1 MiB batches, and cipher outputs that a minor GC
// every 8 MiB frees (~20 MiB in all). Left to V8, those outputs pile up to ~64 MiB before a collection.
const size = 2 * 1024 * 1024 * 1024;
const growthLimit = 40 * 1024 * 1024;
let work: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir: work, cleanup } = makeTempDir());
  // Sparse: costs no disk to create, reads as zeroes at full speed.
  writeFileSync(path.join(work, 'big.bin'), '');
  truncateSync(path.join(work, 'big.bin'), size);
  writeFileSync(path.join(work, 'pass.txt'), 'large file passphrase\n');
});
afterAll(() => cleanup());

async function runMeasured(args: string[]): Promise<number> {
  const rssFile = path.join(work, `rss-${(args[0] ?? 'x').replace(/\W/g, '')}`);
  const result = await runCliProcess(
    args,
    { ...process.env, NODE_OPTIONS: `--import ${path.join(projectRoot, 'test', 'support', 'max-rss-preload.mjs')}`, TORSH_DEPOT_MAX_RSS_FILE: rssFile },
    600_000,
  );
  expect(result.code, result.stderr).toBe(0);
  return Number(readFileSync(rssFile, 'utf8'));
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

it('encrypts and decrypts 2 GiB with AES-256-GCM in bounded memory', async () => {
  const idleRss = await runMeasured(['--version']);
  const input = path.join(work, 'big.bin');
  const encrypted = path.join(work, 'big.enc');
  const output = path.join(work, 'big.out');
  const encryptRss = await runMeasured(['encrypt', input, '-o', encrypted, '--passphrase-file', path.join(work, 'pass.txt')]);
  expect(statSync(encrypted).size).toBe(102 + size + 16 * (size / 65536));
  const decryptRss = await runMeasured(['decrypt', encrypted, '-o', output, '--passphrase-file', path.join(work, 'pass.txt')]);
  expect(statSync(output).size).toBe(size);
  expect(await sha256Of(output)).toBe(await sha256Of(input));
  expect(encryptRss - idleRss).toBeLessThan(growthLimit);
  expect(decryptRss - idleRss).toBeLessThan(growthLimit);
}, 900_000);
