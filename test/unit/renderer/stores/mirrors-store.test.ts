import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Core } from '../../../../electron/services/composition-root';
import { encodeSignedMirrorIndex } from '../../../../electron/services/mirrors/mirror-index';
import type { MirrorIndex } from '../../../../shared/domain/mirrors';
import { contractClientOf } from '../../../support/core-contract-client';
import { receiveUpload } from '../../../../electron/services/registry/upload-receiver';
import { newTestCore } from '../../../support/test-core';
import { makeTestPackage } from '../../../support/packages';
import { freePort, startNginx } from '../../../support/nginx-server';

// The page's client needs a browser window; these tests hand the store a client wired to a real core instead.
vi.mock('../../../../renderer/src/lib/client-instance', () => ({
  client: null,
  requireClient: () => {
    throw new Error('no page client in unit tests');
  },
}));
const { createMirrorsStore } = await import('../../../../renderer/src/stores/mirrors-store');

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The contract client over the core's own router, as the desktop preload would carry it. */
const clientOf = contractClientOf;

function storeFor(core: Core) {
  const client = clientOf(core);
  return createMirrorsStore(() => client);
}

describe('the mirrors store against a real core', () => {
  it('loads the empty set, adds, edits and removes mirrors, and keeps a refused mirror out with the reason', async () => {
    const { core } = newTestCore(cleanups);
    const store = storeFor(core);
    expect(store.getState().loaded).toBe(false);
    await store.getState().refresh();
    expect(store.getState()).toMatchObject({ loaded: true, mirrors: [], error: null, stats: { total: 0, healthy: 0 }, settings: { selection_strategy: 'priority' } });

    expect(await store.getState().add({ id: 'mirror-eu', url: 'https://eu-mirror.example.com', region: 'eu-central-1', priority: 1, weight: 100, capacity: 16, enabled: true })).toBeNull();
    expect(store.getState().mirrors.map((view) => view.config.id)).toEqual(['mirror-eu']);
    expect(store.getState().mirrors[0]?.health.status).toBe('unknown');

    // The core refuses what the form would (a duplicate id): the message comes back, nothing changes.
    const duplicate = await store.getState().add({ id: 'mirror-eu', url: 'https://other.example.com', priority: 1, weight: 100, capacity: 16, enabled: true });
    expect(duplicate).toMatch(/mirror-eu/);
    expect(store.getState().mirrors).toHaveLength(1);

    expect(await store.getState().update('mirror-eu', { region: 'westeurope', weight: 40 })).toBeNull();
    expect(store.getState().mirrors[0]?.config).toMatchObject({ region: 'westeurope', weight: 40, url: 'https://eu-mirror.example.com' });
    expect(await store.getState().update('mirror-eu', { region: null })).toBeNull();
    expect(store.getState().mirrors[0]?.config.region).toBeUndefined();
    expect(await store.getState().update('nope', { weight: 1 })).toMatch(/nope/);

    await store.getState().remove('mirror-eu');
    expect(store.getState().mirrors).toEqual([]);
    await store.getState().remove('mirror-eu');
    expect(store.getState().error).toMatch(/mirror-eu/);
    const stats = await clientOf(core).request('mirrors.stats', {});
    expect(stats.total).toBe(0);
  });

  it('checks one mirror or all: a served signed index is Healthy, a closed port Unhealthy, with the in-flight flags cleared', async () => {
    const { core, work } = newTestCore(cleanups);
    const key = await core.keyring.generate('mirror index');
    const root = path.join(work, 'mirror');
    mkdirSync(root, { recursive: true });
    const index: MirrorIndex = { format: 'torsh-depot-mirror/1', serial: await core.registryChanges.serial(), generated_at: new Date().toISOString(), registry: null, key_id: null, versions: [] };
    const { bytes, signature } = encodeSignedMirrorIndex(index, core.keyring.pair(key.keyId));
    writeFileSync(path.join(root, 'index.json'), bytes);
    writeFileSync(path.join(root, 'index.json.minisig'), signature);
    const nginx = await startNginx({ root });
    cleanups.push(() => nginx.stop());

    const store = storeFor(core);
    await store.getState().refresh();
    await store.getState().setStrategy('geographic');
    expect(store.getState().settings?.selection_strategy).toBe('geographic');
    expect((await clientOf(core).request('mirrors.section.get', {})).selection_strategy).toBe('geographic');
    await clientOf(core).request('mirrors.section.set', { ...store.getState().settings!, health: { failures_to_down: 1, successes_to_up: 1, timeout: '2s', degraded_latency: '2s' } });

    await store.getState().add({ id: 'near', url: nginx.url, region: 'eu-central-1', priority: 1, weight: 100, capacity: 16, enabled: true });
    await store.getState().add({ id: 'down', url: `http://127.0.0.1:${await freePort()}`, priority: 2, weight: 100, capacity: 16, enabled: true });

    const checking = store.getState().check('near');
    expect(store.getState().checking).toEqual(['near']);
    await checking;
    expect(store.getState().checking).toEqual([]);
    expect(store.getState().mirrors.map((view) => [view.config.id, view.health.status])).toEqual([
      ['near', 'healthy'],
      ['down', 'unknown'],
    ]);

    const all = store.getState().check();
    expect(store.getState().checkingAll).toBe(true);
    await all;
    expect(store.getState().checkingAll).toBe(false);
    const [near, down] = store.getState().mirrors;
    expect(near?.health).toMatchObject({ status: 'healthy', stalenessVersions: 0 });
    expect(near?.latencyHistory).toHaveLength(2);
    expect(down?.health.status).toBe('unhealthy');
    expect(down?.health.lastError).toMatch(/reach/);
    expect(store.getState().stats).toMatchObject({ total: 2, healthy: 1 });
    expect(store.getState().refreshedAt).toBeGreaterThan(0);
  });

  it('syncs through a job, then ranks who would serve a version, re-ranking when the strategy changes', async () => {
    const { core, work } = newTestCore(cleanups);
    await core.keyring.generate('mirror index');
    const file = await makeTestPackage(work, { name: 'resnet', version: '1.0.0' });
    await core.registry.publishUpload(await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'test' });
    const usRoot = path.join(work, 'us');
    const euRoot = path.join(work, 'eu');
    mkdirSync(usRoot);
    mkdirSync(euRoot);
    const [us, eu] = await Promise.all([startNginx({ root: usRoot }), startNginx({ root: euRoot })]);
    cleanups.push(() => us.stop(), () => eu.stop());

    const store = storeFor(core);
    await store.getState().refresh();
    await store.getState().add({ id: 'mirror-us', url: us.url, region: 'us-east-1', priority: 1, weight: 100, capacity: 16, sync_to: pathToFileURL(usRoot).href, enabled: true });
    await store.getState().add({ id: 'mirror-eu', url: eu.url, region: 'eu-central-1', priority: 2, weight: 100, capacity: 16, sync_to: pathToFileURL(euRoot).href, enabled: true });

    await store.getState().sync();
    const jobId = store.getState().syncJobId;
    expect(jobId).toMatch(/./);
    await expect.poll(async () => (await clientOf(core).request('jobs.get', { id: jobId! })).status, { timeout: 30_000 }).toBe('succeeded');
    await store.getState().check();
    expect(store.getState().mirrors.map((view) => view.health.status)).toEqual(['healthy', 'healthy']);

    await store.getState().loadRank({ name: 'resnet', version: '1.0.0', region: 'eu-west-3' });
    const order = () => {
      const rank = store.getState().rank;
      return rank.kind === 'ready' ? rank.entries.filter((entry) => entry.eligible).map((entry) => entry.id) : rank;
    };
    expect(order()).toEqual(['mirror-us', 'mirror-eu']);
    await store.getState().setStrategy('geographic');
    expect(order()).toEqual(['mirror-eu', 'mirror-us']);

    // A version no mirror holds: both are skipped, saying why.
    await store.getState().loadRank({ name: 'resnet', version: '9.9.9', region: 'eu-west-3' });
    const rank = store.getState().rank;
    expect(rank.kind === 'ready' && rank.entries.filter((entry) => !entry.eligible).map((entry) => entry.id).sort()).toEqual(['mirror-eu', 'mirror-us']);
  });

  it('ranks nothing until a name and version are given', async () => {
    const { core } = newTestCore(cleanups);
    const store = storeFor(core);
    await store.getState().loadRank({ name: '  ', version: '1.0.0', region: 'eu-central-1' });
    expect(store.getState().rank).toEqual({ kind: 'idle' });
    await store.getState().loadRank({ name: 'resnet', version: '', region: '' });
    expect(store.getState().rank).toEqual({ kind: 'idle' });
  });

  it('shows a load failure instead of an empty set', async () => {
    const { core } = newTestCore(cleanups);
    const store = storeFor(core);
    await core.close();
    await store.getState().refresh();
    expect(store.getState().loaded).toBe(true);
    // The contract's generic answer for a host-side failure, shown instead of an empty mirror set.
    expect(store.getState().error).toBe('An internal error occurred; see the host log for details.');
  });
});
