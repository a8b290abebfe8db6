import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { PackageEncryptor } from '../../../electron/services/encryption/package-encryptor';
import { adminKey, finish, serveWithScratch, storedBlobs, type ServeTestHost } from './serve-test-host';

/**
 * Issue 13, item 8: a header's scrypt work factor is a stranger's choice. Above 1 GiB of memory or
 * N·r·p > 2^23 it is refused when published (400, nothing stored) and before any work at decrypt.
 */
let t: ServeTestHost;
let work: string;
let sealed: Buffer;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  ({ host: t, work } = await serveWithScratch(cleanups));
  const plain = await makeTestPackage(work, { name: 'costly', version: '1.0.0' });
  await new PackageEncryptor({ scryptParams: { log2N: 10, r: 8, p: 1 } }).encryptFile(plain, path.join(work, 'cheap.enc'), { passphrase: 'correct horse battery staple' });
  sealed = readFileSync(path.join(work, 'cheap.enc'));
}, 60_000);

afterAll(() => finish(cleanups));

/** The same file with other scrypt parameters in its header (bytes 11-13: log2 N, r, p). */
function withParams([log2N, r, p]: readonly [number, number, number]): Buffer {
  const copy = Buffer.from(sealed);
  copy[11] = log2N;
  copy[12] = r;
  copy[13] = p;
  return copy;
}

const cases = [
  { label: '2^20 × r=32: 4 GiB of memory', params: [20, 32, 1], reason: 'kdf-too-costly' },
  { label: '2^20 × r=8 × p=2: 1 GiB but N·r·p = 2^24', params: [20, 8, 2], reason: 'kdf-too-costly' },
  { label: '2^18 × r=32 × p=16: N·r·p = 2^27', params: [18, 32, 16], reason: 'kdf-too-costly' },
  { label: '2^21: above the largest work factor', params: [21, 8, 1], reason: 'bad-kdf-params' },
] as const;

describe('scrypt work factors are capped', () => {
  it('refuses each costly header at publish with a 400 and its reason, storing nothing', async () => {
    for (const { label, params, reason } of cases) {
      const response = await fetch(`${t.api}/packages/costly/1.0.0`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${adminKey}`, 'X-Torsh-Encrypted': '{}', 'Content-Type': 'application/octet-stream' },
        body: new Uint8Array(withParams(params)),
      });
      expect(response.status, label).toBe(400);
      expect(await response.json(), label).toMatchObject({ error: { code: 'VALIDATION_FAILED', reason } });
    }
    expect((await t.call('GET', '/packages/costly', adminKey)).status).toBe(404);
    expect(storedBlobs(t.dataDir)).toEqual([]);
    // Within the caps the same bytes are accepted.
    const accepted = await fetch(`${t.api}/packages/costly/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}`, 'X-Torsh-Encrypted': '{}' }, body: new Uint8Array(sealed) });
    expect(accepted.status).toBe(201);
  });

  it('refuses them at decrypt before deriving anything', async () => {
    const passphrase = path.join(work, 'passphrase.txt');
    writeFileSync(passphrase, 'correct horse battery staple\n');
    for (const { label, params, reason } of cases) {
      const input = path.join(work, `costly-${params.join('-')}.enc`);
      writeFileSync(input, withParams(params));
      const started = Date.now();
      const result = await runCliProcess(['decrypt', input, '-o', path.join(work, 'out.torshpkg'), '--passphrase-file', passphrase]);
      expect(result.code, label).not.toBe(0);
      expect(result.stderr, label).toMatch(reason === 'kdf-too-costly' ? /above the limits of 1024 MiB and N·r·p ≤ 2\^23/ : /Unsupported scrypt parameters/);
      // Refused from the header alone: no 4 GiB allocation, no minutes of CPU.
      expect(Date.now() - started, label).toBeLessThan(15_000);
    }
  }, 90_000);
});
