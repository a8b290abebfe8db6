import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Core } from '../../../../electron/services/composition-root';
import { contractClientOf } from '../../../support/core-contract-client';
import { newTestCore } from '../../../support/test-core';
import { startVarnishEdge } from '../../../support/varnish-edge';

// The page's client needs a browser window; these tests hand the store a client wired to a real core instead.
vi.mock('../../../../renderer/src/lib/client-instance', () => ({
  client: null,
  requireClient: () => {
    throw new Error('no page client in unit tests');
  },
}));
const { createCdnStore } = await import('../../../../renderer/src/stores/cdn-store');

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function storeFor(core: Core) {
  const client = contractClientOf(core);
  return createCdnStore(() => client);
}

describe('the CDN store against a real core and a real Varnish edge', () => {
  it('saves the section (secrets masked, bad ones refused with the field), lists edges, purges with per-target results and tests a region', async () => {
    const { core } = newTestCore(cleanups);
    const edge = await startVarnishEdge({ edgeId: 'edge-a', originHost: '127.0.0.1', originPort: 9 });
    cleanups.push(() => edge.stop());
    const store = storeFor(core);
    await store.getState().refresh();
    expect(store.getState()).toMatchObject({ loaded: true, error: null, config: { configured: false }, edges: [] });

    const section = {
      provider: 'varnish',
      origin: { storage: 'registry' },
      http_purge: { purge_token: '${TORSH_TEST_STORE_UNSET_TOKEN}' },
      edges: [
        { id: 'edge-a', region: 'eu-west-1', endpoint: edge.endpoint },
        { id: 'edge-gone', region: 'us-east-1', endpoint: 'http://127.0.0.1:9' },
      ],
      retry: { max_retries: 0 },
    };
    expect(await store.getState().saveConfig(section)).toMatch(/cdn\.http_purge\.purge_token: .*TORSH_TEST_STORE_UNSET_TOKEN.* not set/);
    expect(store.getState().config?.configured).toBe(false);
    const { http_purge: _unused, ...withoutToken } = section;
    expect(await store.getState().saveConfig(withoutToken)).toBeNull();
    expect(store.getState().config).toMatchObject({ configured: true, config: { provider: 'varnish' } });
    expect(store.getState().edges.map((entry) => entry.id)).toEqual(['edge-a', 'edge-gone']);

    await store.getState().checkEdges();
    // One probe each (hysteresis keeps the status until enough agree); both were checked and the dead one says why.
    expect(store.getState().edges.map((entry) => [entry.id, entry.lastCheckAt === null ? 'never' : 'checked'])).toEqual([
      ['edge-a', 'checked'],
      ['edge-gone', 'checked'],
    ]);
    expect(store.getState().edges[1]?.lastError).toMatch(/http:\/\/127\.0\.0\.1:9 could not be reached: ECONNREFUSED/);

    // The live edge purges the tag; the dead one fails, each reported on its own.
    await store.getState().runPurge({ tags: ['torsh-pkg-vision__resnet'] });
    const purge = store.getState().purge;
    expect(purge.kind).toBe('done');
    if (purge.kind !== 'done') return;
    expect(purge.report.results.map((result) => [result.via, result.ok])).toEqual([
      ['edge-a', true],
      ['edge-gone', false],
    ]);

    await store.getState().testRegion({ name: 'vision/resnet', version: '1.0.0', region: 'eu-central-1', clientIp: '' });
    const test = store.getState().regionTest;
    expect(test.kind).toBe('ready');
    if (test.kind === 'ready') expect(test.answer).toMatchObject({ regionSource: 'region', edgeId: 'edge-a' });
    await store.getState().testRegion({ name: 'vision/resnet', version: '1.0.0', region: '', clientIp: 'nope' });
    expect(store.getState().regionTest).toMatchObject({ kind: 'error', message: expect.stringContaining('"nope" is not an IP address') });
  }, 60_000);
});
