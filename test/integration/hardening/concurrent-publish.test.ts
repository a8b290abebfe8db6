import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPackage } from '../../support/packages';
import { adminKey, finish, serveWithScratch, storedBlobs, type ServeTestHost } from './serve-test-host';

/** Two `curl -T` of the same name@version at once, as two CI jobs would: exactly one creates it. */
let t: ServeTestHost;
let work: string;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  ({ host: t, work } = await serveWithScratch(cleanups));
}, 60_000);

afterAll(() => finish(cleanups));

function curlPut(url: string, file: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '-T', file, '-H', `Authorization: Bearer ${adminKey}`, '-w', '\n%{http_code}', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`curl exited ${code}: ${err}`));
      const cut = out.lastIndexOf('\n');
      resolve({ status: Number(out.slice(cut + 1)), body: out.slice(0, cut) });
    });
  });
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('concurrent publishes of one name@version', () => {
  it('same bytes: exactly one 201, the other 200 with the same digest; one blob', async () => {
    for (let round = 0; round < 4; round += 1) {
      const name = `twin-${round}`;
      const file = await makeTestPackage(work, { name, version: '1.0.0', files: { 'models/weights.pt': 3 * 1024 * 1024 } });
      const url = `${t.api}/packages/${name}/1.0.0`;
      const answers = await Promise.all([curlPut(url, file), curlPut(url, file)]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 201]);
      for (const answer of answers) expect(JSON.parse(answer.body)).toMatchObject({ name, version: '1.0.0', digest: `sha256:${sha256(file)}` });
    }
    const referenced = await referencedDigests();
    expect(storedBlobs(t.dataDir)).toEqual(referenced);
  }, 120_000);

  it('different bytes: exactly one 201, the other 409; the loser leaves no blob behind', async () => {
    for (let round = 0; round < 4; round += 1) {
      const name = `rival-${round}`;
      const left = await makeTestPackage(work, { name, version: '1.0.0', description: 'left', files: { 'models/weights.pt': 3 * 1024 * 1024 } });
      const right = await makeTestPackage(`${work}/right`, { name, version: '1.0.0', description: 'right', files: { 'models/weights.pt': 3 * 1024 * 1024 + 1 } });
      expect(sha256(left)).not.toBe(sha256(right));
      const url = `${t.api}/packages/${name}/1.0.0`;
      const answers = await Promise.all([curlPut(url, left), curlPut(url, right)]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
      const winner = answers.find((answer) => answer.status === 201);
      const loser = answers.find((answer) => answer.status === 409);
      expect(JSON.parse(loser?.body ?? '{}')).toMatchObject({ error: { code: 'CONFLICT' } });
      const stored = await t.call('GET', `/packages/${name}/1.0.0`, adminKey);
      expect((stored.body as { digest: string }).digest).toBe((JSON.parse(winner?.body ?? '{}') as { digest: string }).digest);
    }
    expect(storedBlobs(t.dataDir)).toEqual(await referencedDigests());
  }, 120_000);
});

/** Every digest some version references, from the API (what the blob store must hold, no more). */
async function referencedDigests(): Promise<string[]> {
  const search = await t.call('GET', '/search?per_page=100', adminKey);
  const names = (search.body as { packages: Array<{ name: string }> }).packages.map((entry) => entry.name);
  const digests = new Set<string>();
  for (const name of names) {
    const listing = await t.call('GET', `/packages/${name}`, adminKey);
    for (const version of (listing.body as { versions: Array<{ digest: string }> }).versions) digests.add(version.digest.replace(/^sha256:/, ''));
  }
  return [...digests].sort();
}
