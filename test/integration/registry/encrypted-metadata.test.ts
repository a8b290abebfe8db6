import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createCore } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost } from '../../../electron/host/http-host';
import { createRegistryRoutes } from '../../../electron/host/registry-routes';
import { RegistryClient } from '../../../electron/services/registry-client/registry-client';
import { cheapEncryption, runContractJob } from '../../support/contract-jobs';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('registry HTTP API: encrypted versions', () => {
  it('metadata, listings and search show `encryption`; the download is the ciphertext the digest names', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger, encryptorTuning: cheapEncryption });
    cleanups.push(() => core.close());
    core.access.configureDefaultVisibility('public');
    const registryRoutes = createRegistryRoutes({ registry: core.registry, authorizer: core.authorizer, tmpDir: core.tmpDir, maxPackageBytes: () => 1 << 30, logger: silentLogger });
    const host = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, apiRoutes: [registryRoutes] });
    cleanups.push(() => host.close());

    const file = await makeTestPackage(temp.dir, { name: 'vault', version: '1.0.0', description: 'locked weights' });
    expect((await runContractJob(core, 'packages.publish', { source: { kind: 'path', path: file }, encrypt: { passphrase: 'open sesame!' } })).status).toBe('succeeded');
    const plain = await makeTestPackage(temp.dir, { name: 'vault', version: '0.9.0' });
    expect((await runContractJob(core, 'packages.publish', { source: { kind: 'path', path: plain } })).status).toBe('succeeded');

    const base = `${new URL(host.url).origin}/api/v1`;
    const metadata = (await (await fetch(`${base}/packages/vault/1.0.0`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ name: 'vault', version: '1.0.0', description: 'locked weights', encryption: { algorithm: 'aes-256-gcm', unlock: 'passphrase' }, resources: [] });
    expect(((await (await fetch(`${base}/packages/vault/0.9.0`)).json()) as Record<string, unknown>).encryption).toBeNull();
    const listing = (await (await fetch(`${base}/packages/vault`)).json()) as { versions: Array<{ version: string; encryption: unknown }> };
    expect(listing.versions.map((entry) => [entry.version, entry.encryption])).toEqual([
      ['1.0.0', { algorithm: 'aes-256-gcm', unlock: 'passphrase' }],
      ['0.9.0', null],
    ]);
    const search = (await (await fetch(`${base}/search?q=vault`)).json()) as { packages: Array<{ name: string; version: string; encryption: unknown }> };
    expect(search.packages).toEqual([expect.objectContaining({ name: 'vault', version: '1.0.0', encryption: { algorithm: 'aes-256-gcm', unlock: 'passphrase' } })]);

    const download = Buffer.from(await (await fetch(`${base}/packages/vault/1.0.0/download`)).arrayBuffer());
    expect(download.subarray(0, 8).toString()).toBe('TORSHENC');
    expect(`sha256:${createHash('sha256').update(download).digest('hex')}`).toBe(metadata.digest);
    expect(download.equals(readFileSync(file))).toBe(false);

    // The registry client (remote registries, the cache) surfaces it too.
    const client = new RegistryClient({ baseUrl: host.url, apiKey: null });
    expect((await client.getVersion('vault', '1.0.0')).encryption).toEqual({ algorithm: 'aes-256-gcm', unlock: 'passphrase' });
  });
});
