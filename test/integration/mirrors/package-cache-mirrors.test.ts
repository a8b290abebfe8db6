import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mirrorIndexFormat, mirrorsSectionSchema, type MirrorsSection, type MirrorView } from '../../../shared/domain/mirrors';
import { PackageCache } from '../../../electron/services/cache/package-cache';
import { openDatabase } from '../../../electron/services/database/open-database';
import { migrations } from '../../../electron/services/database/migrations';
import type { MirrorSetProvider } from '../../../electron/services/mirrors/download/mirror-pull';
import { encodeSignedMirrorIndex } from '../../../electron/services/mirrors/mirror-index';
import { mirrorBlobPath } from '../../../electron/services/mirrors/mirror-layout';
import { RegistryClient } from '../../../electron/services/registry-client/registry-client';
import { generateSigningKeyPair } from '../../../electron/services/signing/ed25519-keys';
import { makeTestPackage } from '../../support/packages';
import { startNginx, type RunningNginx } from '../../support/nginx-server';
import { makeTempDir } from '../../support/temp-dir';
import { startRegistryHost, testAdminKey, type RegistryTestHost } from '../../unit/services/registry-client/registry-test-host';

let host: RegistryTestHost;
let packageFile: string;
let digest: string;
const key = generateSigningKeyPair();
const temp = makeTempDir('torsh-depot-cache-mirrors-');
const servers: RunningNginx[] = [];
const closers: Array<() => void> = [];

/** A mirror folder holding `bytes` as ferret@1.0.0 and an index (signed by `key`) promising the real package. */
async function mirrorWith(id: string, bytes: Buffer): Promise<RunningNginx> {
  const root = path.join(temp.dir, id);
  const blob = mirrorBlobPath('ferret', '1.0.0');
  mkdirSync(path.join(root, path.dirname(blob)), { recursive: true });
  writeFileSync(path.join(root, blob), bytes);
  const real = readFileSync(packageFile);
  const { bytes: index, signature } = encodeSignedMirrorIndex(
    {
      format: mirrorIndexFormat,
      serial: 1,
      generated_at: new Date().toISOString(),
      registry: host.origin,
      key_id: null,
      versions: [{ name: 'ferret', version: '1.0.0', size: real.length, sha256: createHash('sha256').update(real).digest('hex'), blake2b: null, yanked: false, signature: false, path: blob }],
    },
    key,
  );
  writeFileSync(path.join(root, 'index.json'), index);
  writeFileSync(path.join(root, 'index.json.minisig'), signature);
  const server = await startNginx({ root });
  servers.push(server);
  return server;
}

function provider(section: MirrorsSection, recorded: Array<{ id: string; bytes: number; ok: boolean }>): MirrorSetProvider {
  return {
    section: () => Promise.resolve(section),
    trustedKeys: () => Promise.resolve([key]),
    list: () => Promise.resolve([] as MirrorView[]),
    recordTransfer: (id, result) => {
      recorded.push({ id, bytes: result.bytes, ok: result.ok });
      return Promise.resolve();
    },
  };
}

function cacheWith(mirrors: MirrorSetProvider | null): PackageCache {
  const db = openDatabase(path.join(makeTempDir().dir, 'cache.sqlite'), migrations);
  closers.push(() => db.close());
  return new PackageCache({
    db,
    dir: path.join(temp.dir, `cache-${closers.length}`),
    maxBytes: () => 1024 ** 3,
    offline: () => false,
    clientFor: (url) => new RegistryClient({ baseUrl: url, apiKey: testAdminKey }),
    mirrors: () => mirrors,
  });
}

beforeAll(async () => {
  host = await startRegistryHost();
  packageFile = await makeTestPackage(temp.dir, { name: 'ferret', version: '1.0.0', files: { 'models/weights.pt': 2 * 1024 * 1024 } });
  await new RegistryClient({ baseUrl: host.origin, apiKey: testAdminKey }).publish(packageFile);
  digest = `sha256:${createHash('sha256').update(readFileSync(packageFile)).digest('hex')}`;
});

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await host?.stop();
  temp.cleanup();
});

describe('the package cache with a mirror set', () => {
  it('downloads through the mirrors and records the mirror used', async () => {
    const mirror = await mirrorWith('good', readFileSync(packageFile));
    const recorded: Array<{ id: string; bytes: number; ok: boolean }> = [];
    const section = mirrorsSectionSchema.parse({ list: [{ id: 'good', url: mirror.url }] });
    const result = await cacheWith(provider(section, recorded)).fetch(host.origin, 'ferret', '^1');
    expect(result).toMatchObject({ digest, version: '1.0.0', fromCache: false });
    expect(readFileSync(result.path).equals(readFileSync(packageFile))).toBe(true);
    expect(recorded).toEqual([{ id: 'good', bytes: statSync(packageFile).size, ok: true }]);
    expect(mirror.readAccessLog()).toMatch(/GET \/packages\/ferret\/1\.0\.0\/ferret-1\.0\.0\.torshpkg HTTP\/1\.1" 206/);
  });

  it('a mirror serving other bytes is caught; the registry serves them instead (auto_fallback)', async () => {
    const real = readFileSync(packageFile);
    const forged = Buffer.concat([randomBytes(1024), real.subarray(1024)]);
    const mirror = await mirrorWith('forged', forged);
    const recorded: Array<{ id: string; bytes: number; ok: boolean }> = [];
    const section = mirrorsSectionSchema.parse({ list: [{ id: 'forged', url: mirror.url }], failover: { retry_delay: '50ms' } });
    const result = await cacheWith(provider(section, recorded)).fetch(host.origin, 'ferret', '1.0.0');
    expect(readFileSync(result.path).equals(real)).toBe(true);
    expect(recorded).toEqual([{ id: 'forged', bytes: 0, ok: false }]);
  });

  it('without enabled mirrors the registry is asked directly', async () => {
    const recorded: Array<{ id: string; bytes: number; ok: boolean }> = [];
    const result = await cacheWith(provider(mirrorsSectionSchema.parse({}), recorded)).fetch(host.origin, 'ferret', '1.0.0');
    expect(result.digest).toBe(digest);
    expect(recorded).toEqual([]);
  });
});
