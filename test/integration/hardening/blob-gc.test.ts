import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { adminKey, finish, serveWithScratch, storedBlobs, type ServeTestHost } from './serve-test-host';

/** The blob garbage collector through `POST /api/v1/storage/gc` and `torsh-depot gc` against a real serve. */
let t: ServeTestHost;
let work: string;
let publishedDigest = '';
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  ({ host: t, work } = await serveWithScratch(cleanups));
  const file = await makeTestPackage(work, { name: 'kept', version: '1.0.0' });
  const response = await fetch(`${t.api}/packages/kept/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` }, body: new Uint8Array(readFileSync(file)) });
  expect(response.status).toBe(201);
  publishedDigest = ((await response.json()) as { digest: string }).digest.replace(/^sha256:/, '');
}, 60_000);

afterAll(() => finish(cleanups));

/** A blob no version references, as a crash between storing and recording leaves; `ageSeconds` old. */
function orphan(ageSeconds: number): string {
  const bytes = randomBytes(4096);
  const digest = createHash('sha256').update(bytes).digest('hex');
  const dir = path.join(t.dataDir, 'blobs', 'sha256');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, digest);
  writeFileSync(file, bytes);
  const at = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(file, at, at);
  return digest;
}

function gcCli(args: string[], key: string | null = adminKey): ReturnType<typeof runCliProcess> {
  const env = { ...process.env };
  delete env.TORSH_DEPOT_API_KEY;
  return runCliProcess(['gc', '--registry', new URL(t.api).origin, ...(key ? ['--api-key', key] : []), ...args], env);
}

describe('blob garbage collection', () => {
  it('dry run reports, a real run removes only unreferenced blobs older than the grace period', async () => {
    const old = orphan(2 * 3600);
    const young = orphan(60);
    const dry = await t.call('POST', '/storage/gc', adminKey, { dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({
      job_id: expect.any(String),
      dry_run: true,
      grace_seconds: 3600,
      scanned: 3,
      referenced: 1,
      young: 1,
      in_flight: 0,
      unreferenced: 1,
      unreferenced_bytes: 4096,
      removed: 0,
      digests: [`sha256:${old}`],
    });
    expect(storedBlobs(t.dataDir)).toEqual([old, young, publishedDigest].sort());

    const fromCli = await gcCli(['--dry-run', '--json']);
    expect(fromCli.code, fromCli.stderr).toBe(0);
    expect(JSON.parse(fromCli.stdout)).toMatchObject({ dry_run: true, unreferenced: 1, removed: 0, digests: [`sha256:${old}`] });

    const real = await gcCli([]);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('removed 1 unreferenced blob(s), 4096 bytes');
    expect(storedBlobs(t.dataDir)).toEqual([young, publishedDigest].sort());

    const all = await t.call('POST', '/storage/gc', adminKey, { grace_seconds: 0 });
    expect(all.body).toMatchObject({ dry_run: false, scanned: 2, referenced: 1, removed: 1, digests: [`sha256:${young}`] });
    expect(storedBlobs(t.dataDir)).toEqual([publishedDigest]);
    // The published version still downloads.
    const download = await fetch(`${t.api}/packages/kept/1.0.0/download`, { headers: { Authorization: `Bearer ${adminKey}` } });
    expect(download.status).toBe(200);
    await download.arrayBuffer();
  });

  it('needs ManageInfrastructure: 401 without a key, 403 for a maintainer; bad bodies are 400', async () => {
    const orphaned = orphan(2 * 3600);
    const maintainer = await t.user('gc-maintainer', ['maintainer']);
    expect((await t.call('POST', '/storage/gc', null, { dry_run: false, grace_seconds: 0 })).status).toBe(401);
    expect((await t.call('POST', '/storage/gc', maintainer.key, { dry_run: false, grace_seconds: 0 })).status).toBe(403);
    expect((await t.call('GET', '/storage/gc', adminKey)).status).toBe(405);
    const bad = await t.call('POST', '/storage/gc', adminKey, { grace_seconds: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    const refused = await gcCli(['--grace-seconds', '0'], maintainer.key);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/lacks ManageInfrastructure/);
    expect(storedBlobs(t.dataDir)).toContain(orphaned);
    const usage = await gcCli(['--grace-seconds', 'soon']);
    expect(usage.code).toBe(2);
  });
});
