import { describe, expect, it, vi } from 'vitest';
import type { Core } from '../../../../electron/services/composition-root';
import { contractClientOf } from '../../../support/core-contract-client';
import { makeTestPackage } from '../../../support/packages';
import { keyVariable, killRegion, newReplicatingCore, nodeEndpoint, publishFile, restartRegion, sectionFor, useRegions, type Region } from '../../../integration/replication/replication-support';

// The page's client needs a browser window; these tests hand the store a client wired to a real core instead.
vi.mock('../../../../renderer/src/lib/client-instance', () => ({
  client: null,
  requireClient: () => {
    throw new Error('no page client in unit tests');
  },
}));
const { createReplicationStore, maxLagPoints, parseVersionRef } = await import('../../../../renderer/src/stores/replication-store');

const world = useRegions('torsh-replication-store-');

function storeFor(core: Core, clock: () => number = Date.now) {
  const client = contractClientOf(core);
  return createReplicationStore(() => client, clock);
}

describe('parseVersionRef', () => {
  it('splits at the last @ and refuses what is not name@version', () => {
    expect(parseVersionRef(' vision/resnet50@1.2.0 ')).toEqual({ name: 'vision/resnet50', version: '1.2.0' });
    expect(parseVersionRef('resnet50')).toBeNull();
    expect(parseVersionRef('@1.0.0')).toBeNull();
    expect(parseVersionRef('resnet50@')).toBeNull();
  });
});

describe('the replication store against a real core and three s3rver regions', () => {
  it('shows a down node and its queued copies, the placement of a version, retries after the node is back and sees the queue drain', async () => {
    const three = world.three as [Region, Region, Region];
    const { core } = newReplicatingCore(world.cleanups, sectionFor(three, { consistency: 'eventual' }));
    let clock = 1_000_000;
    const store = storeFor(core, () => (clock += 5_000));
    await store.getState().refresh();
    expect(store.getState()).toMatchObject({ loaded: true, error: null, queue: [], conflicts: [] });
    expect(store.getState().status?.nodes.map((node) => [node.id, node.region, node.kind])).toEqual([
      ['us', 'us-east-1', 'storage'],
      ['eu', 'europe-west4', 'storage'],
      ['ap', 'asia-east1', 'storage'],
    ]);

    const ap = three[2];
    await killRegion(ap);
    try {
      const file = await makeTestPackage(world.scratch, { name: 'resnet50', version: '1.2.0', files: { 'models/weights.pt': 30_000 } });
      await publishFile(core, file, 'eventual');

      // us and eu confirm; ap's copy waits as a hint with the error, and the node shows as down.
      await expect
        .poll(
          async () => {
            await store.getState().refresh();
            const nodes = store.getState().status?.nodes ?? [];
            // The queue is read beside the status; a hint counted there shows as a waiting copy once both agree.
            const waitingFor = (id: string): boolean => store.getState().queue.some((task) => task.nodeId === id && task.state !== 'done');
            return nodes.map((node) => [node.id, node.status, node.hints > 0, waitingFor(node.id)]);
          },
          { timeout: 30_000, interval: 300 },
        )
        .toEqual([
          ['us', 'healthy', false, false],
          ['eu', 'healthy', false, false],
          ['ap', 'unhealthy', true, true],
        ]);
      const waiting = store.getState().queue.filter((task) => task.nodeId === 'ap' && task.state !== 'done');
      expect(waiting.length).toBeGreaterThan(0);
      expect(waiting[0]).toMatchObject({ name: 'resnet50', version: '1.2.0' });
      expect(waiting.some((task) => task.lastError !== null)).toBe(true);
      expect(store.getState().status?.nodes.find((node) => node.id === 'us')?.usedBytes).toBeGreaterThan(0);

      await store.getState().lookupPlacement('resnet50@1.2.0');
      const placement = store.getState().placement;
      expect(placement.kind).toBe('ready');
      if (placement.kind === 'ready') {
        expect(Object.fromEntries(placement.placement.nodes.map((node) => [node.nodeId, node.state === 'done']))).toEqual({ us: true, eu: true, ap: false });
      }
      await store.getState().lookupPlacement('resnet50');
      expect(store.getState().placement).toMatchObject({ kind: 'error', message: expect.stringContaining('name@version') });
    } finally {
      await restartRegion(ap);
    }

    // Back: a retry tries the hints now, and the queue drains.
    await store.getState().retry('ap');
    expect(store.getState().lastRetry).toBeGreaterThan(0);
    expect(store.getState().retrying).toBe(false);
    await expect
      .poll(
        async () => {
          await store.getState().refresh();
          return store.getState().status?.queueDepth;
        },
        { timeout: 30_000, interval: 300 },
      )
      .toBe(0);
    expect(store.getState().queue.filter((task) => task.state !== 'done')).toEqual([]);
    const history = store.getState().lagHistory;
    expect(Object.keys(history).sort()).toEqual(['ap', 'eu', 'us']);
    expect(history.us?.length).toBeGreaterThan(1);
    expect(history.us?.length).toBeLessThanOrEqual(maxLagPoints);
    expect(history.us?.every((point, index, all) => index === 0 || point.t > (all[index - 1]?.t ?? 0))).toBe(true);

    // Anti-entropy finds nothing left to do; resolving a conflict that does not exist says so.
    await store.getState().runVerify(false);
    const verify = store.getState().verify;
    expect(verify).toMatchObject({ kind: 'done', report: { findings: [], checked: 3 } });
    await store.getState().retry('nowhere');
    expect(store.getState().error).toMatch(/No replication node nowhere/);
    await store.getState().resolveConflict(999, { policy: 'manual', winner: 'local' });
    expect(store.getState().error).toMatch(/No replication conflict 999\./);
    expect(store.getState().resolving).toBeNull();
  }, 120_000);

  it('adds, updates and removes nodes and rules through the replication.* channels; a bad node is refused and nothing changes', async () => {
    const three = world.three as [Region, Region, Region];
    const { core } = newReplicatingCore(world.cleanups, sectionFor(three.slice(0, 2)));
    const api = contractClientOf(core);
    expect((await api.request('replication.nodes', {})).map((node) => node.id)).toEqual(['us', 'eu']);
    await expect(api.request('replication.nodes.save', { node: { id: 'Bad_Id', region: 'us-east-1', endpoint: nodeEndpoint(three[2]) } })).rejects.toThrow(/node\.id/);
    await expect(api.request('replication.nodes.save', { node: { id: 'ap', region: 'nowhere-9', endpoint: nodeEndpoint(three[2]) } })).rejects.toThrow(/region/);
    expect((await api.request('replication.nodes', {})).map((node) => node.id)).toEqual(['us', 'eu']);

    const credentials = { access_key_id: `\${${keyVariable}}`, secret_access_key: `\${${keyVariable}}` };
    const added = await api.request('replication.nodes.save', { node: { id: 'ap', region: 'asia-east1', endpoint: nodeEndpoint(three[2]), capacity: '1GiB', credentials } });
    expect(added.map((node) => [node.id, node.capacityBytes])).toEqual([
      ['us', null],
      ['eu', null],
      ['ap', 1024 ** 3],
    ]);
    const updated = await api.request('replication.nodes.save', { node: { id: 'ap', region: 'asia-east1', endpoint: nodeEndpoint(three[2]), priority: 5, credentials } });
    expect(updated.find((node) => node.id === 'ap')).toMatchObject({ priority: 5, capacityBytes: null });
    expect((await api.request('replication.nodes.remove', { id: 'eu' })).map((node) => node.id)).toEqual(['us', 'ap']);

    const rules = await api.request('replication.rules.save', { rule: { name: 'nightly', packages: 'vision/*', trigger: 'schedule', interval: '1h' } });
    expect(rules).toMatchObject({ replication_factor: 3, consistency: 'quorum', rules: [{ name: 'nightly', packages: 'vision/*', trigger: 'schedule', interval: 3_600_000, direction: 'push' }] });
    // Read back as in force: the interval stays in milliseconds.
    expect((await api.request('replication.rules', {})).rules[0]?.interval).toBe(3_600_000);
    await expect(api.request('replication.rules.save', { rule: { name: 'broken', trigger: 'schedule' } })).rejects.toThrow(/interval/);
    expect((await api.request('replication.rules.remove', { name: 'nightly' })).rules).toEqual([]);
    expect(await api.request('replication.conflicts', {})).toEqual([]);
  }, 60_000);
});
