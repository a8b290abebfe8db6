import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { openDatabase } from '../../../../electron/services/database/open-database';
import { migrations } from '../../../../electron/services/database/migrations';
import { PackageCache, type PackageCacheOptions } from '../../../../electron/services/cache/package-cache';
import { RegistryClient } from '../../../../electron/services/registry-client/registry-client';
import { makeTestPackage } from '../../../support/packages';
import { makeTempDir } from '../../../support/temp-dir';
import { FaultProxy, isDownload } from '../registry-client/fault-proxy';
import { startRegistryHost, testAdminKey, type RegistryTestHost } from '../registry-client/registry-test-host';
import { caught } from '../../../support/depot-errors';

let host: RegistryTestHost;
let proxy: FaultProxy;
let work: string;
const cleanups: Array<() => unknown> = [];
const packages = new Map<string, { file: string; digest: string; size: number }>();

/** Publishes `name@version` (a ~`weightBytes` package) to the real registry once. */
async function publish(name: string, version: string, weightBytes = 100 * 1024): Promise<{ file: string; digest: string; size: number }> {
  const file = await makeTestPackage(work, { name, version, files: { 'models/weights.pt': weightBytes } });
  await new RegistryClient({ baseUrl: host.origin, apiKey: testAdminKey }).publish(file);
  const entry = { file, digest: `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`, size: statSync(file).size };
  packages.set(`${name}@${version}`, entry);
  return entry;
}

function pkg(spec: string): { file: string; digest: string; size: number } {
  const found = packages.get(spec);
  if (!found) throw new Error(`not published: ${spec}`);
  return found;
}

beforeAll(async () => {
  host = await startRegistryHost();
  proxy = await FaultProxy.start(host.origin);
  const scratch = makeTempDir();
  cleanups.push(scratch.cleanup);
  work = scratch.dir;
  await publish('alpaca', '1.0.0');
  await publish('alpaca', '1.1.0');
  await publish('alpaca', '2.0.0');
  await publish('bison', '1.0.0');
  await publish('camel', '1.0.0');
  await publish('dingo', '1.0.0', 400 * 1024);
});

afterAll(async () => {
  await proxy?.close();
  await host?.stop();
  for (const cleanup of cleanups.reverse()) cleanup();
});

interface Harness {
  cache: PackageCache;
  db: Database;
  dir: string;
  settings: { maxBytes: number; offline: boolean };
  clientsMade: () => number;
  tick: () => number;
}

let harness: Harness;
let local: { dir: string; cleanup: () => void };
let databases: Database[] = [];

function makeHarness(overrides: Partial<PackageCacheOptions> = {}, dbFile = path.join(local.dir, 'cache.sqlite')): Harness {
  const db = openDatabase(dbFile, migrations);
  databases.push(db);
  const dir = path.join(local.dir, 'cache');
  const settings = { maxBytes: 1024 ** 3, offline: false };
  let clients = 0;
  let clock = 1_000;
  const cache = new PackageCache({
    db,
    dir,
    maxBytes: () => settings.maxBytes,
    offline: () => settings.offline,
    clientFor: (url) => {
      clients += 1;
      return new RegistryClient({ baseUrl: url, apiKey: testAdminKey, retryBaseDelayMs: 5, retryMaxDelayMs: 20 });
    },
    now: () => (clock += 1),
    ...overrides,
  });
  return { cache, db, dir, settings, clientsMade: () => clients, tick: () => (clock += 1) };
}

beforeEach(() => {
  local = makeTempDir();
  harness = makeHarness();
});

afterEach(() => {
  for (const db of databases) db.close();
  databases = [];
  proxy.reset();
  local.cleanup();
});


function sha256File(file: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

describe('PackageCache', () => {
  it('a miss downloads into dir/sha256/<hex>; the next fetch of the exact version is a verified hit with no network call', async () => {
    const { cache, dir } = harness;
    const miss = await cache.fetch(proxy.url, 'alpaca', '1.0.0');
    const expected = pkg('alpaca@1.0.0');
    expect(miss).toEqual({ path: path.join(dir, 'sha256', expected.digest.slice(7)), digest: expected.digest, size: expected.size, name: 'alpaca', version: '1.0.0', fromCache: false });
    expect(sha256File(miss.path)).toBe(expected.digest);
    expect(proxy.count(isDownload)).toBe(1);

    const requestsBefore = proxy.count();
    const hit = await cache.fetch(`${proxy.url}/`, 'alpaca', '1.0.0');
    expect(hit).toEqual({ ...miss, fromCache: true });
    expect(proxy.count()).toBe(requestsBefore);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, evictions: 0, entries: 1, bytes: expected.size });
    expect(cache.list()).toEqual([expect.objectContaining({ digest: expected.digest, name: 'alpaca', version: '1.0.0', registryUrl: proxy.url, hits: 1, path: miss.path })]);
    // Nothing left behind in the download area.
    expect(readdirSync(path.join(dir, 'partial'))).toEqual([]);
  });

  it('online, a range is resolved by the registry (newest non-yanked); a cached result is then a hit', async () => {
    const { cache } = harness;
    const first = await cache.fetch(proxy.url, 'alpaca', '^1');
    expect(first).toMatchObject({ version: '1.1.0', fromCache: false, digest: pkg('alpaca@1.1.0').digest });
    const again = await cache.fetch(proxy.url, 'alpaca', '^1');
    expect(again).toMatchObject({ version: '1.1.0', fromCache: true });
    expect(proxy.count(isDownload)).toBe(1);
  });

  it('concurrent fetches of the same version share one download', async () => {
    const { cache } = harness;
    const progressA: number[] = [];
    const progressB: number[] = [];
    const [a, b, c] = await Promise.all([
      cache.fetch(proxy.url, 'dingo', '1.0.0', { onProgress: (received) => progressA.push(received) }),
      cache.fetch(proxy.url, 'dingo', '1.0.0', { onProgress: (received) => progressB.push(received) }),
      cache.fetch(proxy.url, 'dingo', '^1'),
    ]);
    expect(proxy.count(isDownload)).toBe(1);
    expect(a.path).toBe(b.path);
    expect(c.path).toBe(a.path);
    expect(progressA.at(-1)).toBe(pkg('dingo@1.0.0').size);
    expect(progressB.length).toBeGreaterThan(0);
    expect(harness.cache.stats().entries).toBe(1);
  });

  it('evicts least-recently-used entries to fit the cap, never the entry just fetched', async () => {
    const { cache, settings } = harness;
    const sizes = ['alpaca@1.0.0', 'bison@1.0.0', 'camel@1.0.0'].map((spec) => pkg(spec).size);
    settings.maxBytes = (sizes[0] ?? 0) + (sizes[2] ?? 0) + 10;
    const a = await cache.fetch(proxy.url, 'alpaca', '1.0.0');
    const b = await cache.fetch(proxy.url, 'bison', '1.0.0');
    expect((await cache.fetch(proxy.url, 'alpaca', '1.0.0')).fromCache).toBe(true); // alpaca is now the most recent
    await cache.fetch(proxy.url, 'camel', '1.0.0');
    expect(cache.list().map((entry) => entry.name).sort()).toEqual(['alpaca', 'camel']);
    expect(existsSync(b.path)).toBe(false);
    expect(existsSync(a.path)).toBe(true);
    expect(cache.stats()).toMatchObject({ evictions: 1, entries: 2 });

    // A cap below one package: everything else goes, the new entry stays.
    settings.maxBytes = 1;
    const d = await cache.fetch(proxy.url, 'dingo', '1.0.0');
    expect(cache.list().map((entry) => entry.name)).toEqual(['dingo']);
    expect(existsSync(d.path)).toBe(true);
    expect(readdirSync(path.join(harness.dir, 'sha256'))).toEqual([pkg('dingo@1.0.0').digest.slice(7)]);
    expect(cache.stats().evictions).toBe(3);
    // Lowering the cap later evicts on demand (nothing is "just fetched" any more).
    settings.maxBytes = 0;
    expect(await cache.enforceCap()).toBe(1);
    expect(cache.list()).toEqual([]);
    expect(existsSync(d.path)).toBe(false);
  });

  it('drops a corrupt or truncated entry on a hit and fetches it again', async () => {
    const { cache } = harness;
    const first = await cache.fetch(proxy.url, 'bison', '1.0.0');
    const bytes = readFileSync(first.path);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    writeFileSync(first.path, bytes); // same size, other bytes: only the hash can tell
    const refetched = await cache.fetch(proxy.url, 'bison', '1.0.0');
    expect(refetched.fromCache).toBe(false);
    expect(sha256File(refetched.path)).toBe(pkg('bison@1.0.0').digest);
    expect(proxy.count(isDownload)).toBe(2);

    writeFileSync(refetched.path, readFileSync(refetched.path).subarray(0, 100));
    expect((await cache.fetch(proxy.url, 'bison', '1.0.0')).fromCache).toBe(false);
    expect(proxy.count(isDownload)).toBe(3);
  });

  it('offline mode makes no network call at all: exact and range hits from the cache, misses fail', async () => {
    const { cache, settings } = harness;
    await cache.fetch(proxy.url, 'alpaca', '1.0.0');
    await cache.fetch(proxy.url, 'alpaca', '1.1.0');
    const requests = proxy.count();
    const clients = harness.clientsMade();
    settings.offline = true;

    expect(await cache.fetch(proxy.url, 'alpaca', '1.0.0')).toMatchObject({ version: '1.0.0', fromCache: true });
    expect(await cache.fetch(proxy.url, 'alpaca', '^1')).toMatchObject({ version: '1.1.0', fromCache: true });
    expect(await cache.fetch(proxy.url, 'alpaca', '1.0.x')).toMatchObject({ version: '1.0.0', fromCache: true });
    const missing = await caught(cache.fetch(proxy.url, 'alpaca', '2.0.0'));
    expect(missing.code).toBe('UNAVAILABLE');
    expect(missing.message).toContain('offline');
    expect((await caught(cache.fetch(proxy.url, 'alpaca', '^2'))).code).toBe('UNAVAILABLE');
    expect((await caught(cache.fetch(proxy.url, 'never-seen', '*'))).code).toBe('UNAVAILABLE');

    // A corrupt copy offline: dropped; a range falls back to the next cached match.
    const newest = cache.list().find((entry) => entry.version === '1.1.0');
    writeFileSync(newest?.path ?? '', 'garbage');
    expect(await cache.fetch(proxy.url, 'alpaca', '^1')).toMatchObject({ version: '1.0.0', fromCache: true });
    expect((await caught(cache.fetch(proxy.url, 'alpaca', '1.1.0'))).code).toBe('UNAVAILABLE');

    expect(proxy.count()).toBe(requests);
    expect(harness.clientsMade()).toBe(clients);
  });

  it('offline mode works with the registry stopped entirely', async () => {
    const registry = await startRegistryHost();
    try {
      const file = await makeTestPackage(work, { name: 'ephemeral', version: '1.0.0' });
      await new RegistryClient({ baseUrl: registry.origin, apiKey: testAdminKey }).publish(file);
      await harness.cache.fetch(registry.origin, 'ephemeral', '1.0.0');
    } finally {
      await registry.stop();
    }
    harness.settings.offline = true;
    expect(await harness.cache.fetch(registry.origin, 'ephemeral', '^1.0.0')).toMatchObject({ fromCache: true, version: '1.0.0' });
    // Online, the same range needs the registry: the failure is UNAVAILABLE, not a hang.
    harness.settings.offline = false;
    const online = makeHarness({ clientFor: (url) => new RegistryClient({ baseUrl: url, retries: 0 }) }, path.join(local.dir, 'cache.sqlite'));
    expect((await caught(online.cache.fetch(registry.origin, 'ephemeral', '^1.0.0'))).code).toBe('UNAVAILABLE');
  });

  it('a cancelled fetch keeps its partial download, and the next fetch resumes it', async () => {
    const { cache } = harness;
    proxy.stallBodyNext(150_000);
    const controller = new AbortController();
    const error = await caught(cache.fetch(proxy.url, 'dingo', '1.0.0', { signal: controller.signal, onProgress: (received) => {
      if (received >= 150_000) controller.abort();
    } }));
    expect(error.code).toBe('CANCELLED');
    const hex = pkg('dingo@1.0.0').digest.slice(7);
    expect(statSync(path.join(harness.dir, 'partial', `${hex}.partial`)).size).toBe(150_000);
    expect(cache.list()).toEqual([]);

    proxy.reset();
    const result = await cache.fetch(proxy.url, 'dingo', '1.0.0');
    expect(sha256File(result.path)).toBe(pkg('dingo@1.0.0').digest);
    expect(proxy.requests.filter(isDownload).map((request) => request.headers.range)).toEqual(['bytes=150000-']);
    expect(readdirSync(path.join(harness.dir, 'partial'))).toEqual([]);
  });

  it('one caller cancelling does not cancel a download another caller still waits for', async () => {
    const { cache } = harness;
    // The cut holds the transfer open long enough for both callers to join it.
    proxy.cutBodyNext(50_000);
    const controller = new AbortController();
    const leaving = cache.fetch(proxy.url, 'camel', '1.0.0', { signal: controller.signal, onProgress: () => controller.abort() });
    const staying = cache.fetch(proxy.url, 'camel', '1.0.0');
    expect((await caught(leaving)).code).toBe('CANCELLED');
    const result = await staying;
    expect(result.fromCache).toBe(false);
    expect(sha256File(result.path)).toBe(pkg('camel@1.0.0').digest);
    // The transfer went on: one cut, one resume, never a fresh start.
    expect(proxy.requests.filter(isDownload).map((request) => request.headers.range)).toEqual([undefined, 'bytes=50000-']);
    expect(cache.stats()).toMatchObject({ entries: 1, misses: 2 });
  });

  it('persists its counters in the database', async () => {
    await harness.cache.fetch(proxy.url, 'alpaca', '1.0.0');
    await harness.cache.fetch(proxy.url, 'alpaca', '1.0.0');
    const reopened = makeHarness();
    expect(reopened.cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  it('reconcile drops rows whose file is gone and deletes (old) files no row names', async () => {
    const { cache, dir } = harness;
    const kept = await cache.fetch(proxy.url, 'alpaca', '1.0.0');
    const lost = await cache.fetch(proxy.url, 'bison', '1.0.0');
    writeFileSync(lost.path, '');
    const stray = path.join(dir, 'sha256', 'f'.repeat(64));
    const young = path.join(dir, 'sha256', 'e'.repeat(64));
    writeFileSync(stray, 'left by a crash');
    writeFileSync(young, 'another process is about to index this');
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(stray, old, old);
    mkdirSync(path.join(dir, 'partial'), { recursive: true });
    writeFileSync(path.join(dir, 'partial', `${'a'.repeat(64)}.lock`), '999999999');

    expect(await cache.reconcile()).toEqual({ droppedRows: 1, deletedFiles: 2 });
    expect(cache.list().map((entry) => entry.name)).toEqual(['alpaca']);
    expect(existsSync(kept.path)).toBe(true);
    expect(existsSync(stray)).toBe(false);
    expect(existsSync(young)).toBe(true);
    expect(readdirSync(path.join(dir, 'partial'))).toEqual([]);
  });

  it('clean removes every entry and file', async () => {
    const { cache, dir } = harness;
    await cache.fetch(proxy.url, 'alpaca', '1.0.0');
    await cache.fetch(proxy.url, 'bison', '1.0.0');
    const result = await cache.clean();
    expect(result).toEqual({ removedEntries: 2, freedBytes: pkg('alpaca@1.0.0').size + pkg('bison@1.0.0').size });
    expect(cache.list()).toEqual([]);
    expect(readdirSync(path.join(dir, 'sha256'))).toEqual([]);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('refuses bad names and ranges before any network call', async () => {
    expect((await caught(harness.cache.fetch(proxy.url, 'Bad Name', '1.0.0'))).code).toBe('VALIDATION_FAILED');
    expect((await caught(harness.cache.fetch(proxy.url, 'alpaca', 'not-a-range!!'))).code).toBe('VALIDATION_FAILED');
    expect(proxy.count()).toBe(0);
  });
});
