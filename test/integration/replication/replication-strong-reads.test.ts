import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { stringify as toYaml } from 'yaml';
import { replicaKeys, replicationSectionSchema } from '../../../shared/domain/replication';
import { createCore } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { ReplicaNode, storageForNode } from '../../../electron/services/replication/replica-node';
import { rebuildFromReplica } from '../../../electron/services/replication/replica-rebuild';
import { startServe, stopAllServing } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';
import { killRegion, newReplicatingCore, publishFile, readRecord, regionStorage, restartRegion, sectionFor, useRegions, type Region } from './replication-support';

const adminKey = 'replication-strong-admin-key-0123';
const world = useRegions('torsh-replication-strong-');
const three = world.three;
const cleanups = world.cleanups;
afterAll(() => stopAllServing());

describe('strong reads: the commit marker', () => {
  it('is written on every replica after all confirmed, and a read through the registry checks it', async () => {
    const { core, dataDir } = newReplicatingCore(cleanups, sectionFor(three));
    const file = await makeTestPackage(world.scratch, { name: 'strong-read', version: '1.0.0' });
    await publishFile(core, file, 'strong');
    for (const region of three) {
      const marker = JSON.parse((await regionStorage(region).get(replicaKeys.commit('strong-read', '1.0.0')).then((stream) => stream.toArray())).map(String).join('')) as { nodes: string[] };
      expect(marker.nodes.sort()).toEqual(['ap', 'eu', 'us']);
      expect((await readRecord(region, 'strong-read', '1.0.0'))?.consistency).toBe('strong');
    }
    await expect(core.registry.openDownload('strong-read', '1.0.0').then(({ stream }) => stream.toArray())).resolves.toBeDefined();

    // The registry's record of the commit gone (as if the write had never completed): the read is refused.
    const db = new Database(path.join(dataDir, 'torsh-depot.sqlite'));
    try {
      db.prepare('DELETE FROM replication_commits WHERE package_name = ?').run('strong-read');
    } finally {
      db.close();
    }
    await expect(core.registry.openDownload('strong-read', '1.0.0')).rejects.toMatchObject({ code: 'UNAVAILABLE', reason: 'not-committed' });
  }, 120_000);

  it('a strong write cut by kill -9 of serve leaves records without markers: a rebuild skips them, and the restarted registry removes them', async () => {
    const data = makeTempDir('torsh-replication-strong-data-');
    cleanups.push(data.cleanup);
    const config = path.join(world.scratch, 'strong.yaml');
    const section = sectionFor(three, { ack_timeout: '60s' });
    writeFileSync(config, toYaml({ replication: section }));
    const env = { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey };
    const host = await startServe(['--port', '0', '--data-dir', data.dir, '--config', config], env);
    const [us, eu, ap] = three as [Region, Region, Region];
    await killRegion(ap);
    try {
      const file = await makeTestPackage(world.scratch, { name: 'cut-strong', version: '1.0.0' });
      const origin = new URL(host.url).origin;
      const publish = fetch(`${origin}/api/v1/packages/cut-strong/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}`, 'X-Torsh-Consistency': 'strong' }, body: readFileSync(file) }).catch(() => null);
      await expect.poll(async () => (await readRecord(us, 'cut-strong', '1.0.0')) !== null && (await readRecord(eu, 'cut-strong', '1.0.0')) !== null, { timeout: 30_000, interval: 100 }).toBe(true);
      host.child.kill('SIGKILL');
      await host.stop();
      await publish;
      expect(await regionStorage(us).head(replicaKeys.commit('cut-strong', '1.0.0'))).toBeNull();

      // A registry rebuilt from us does not show the version the original never made visible.
      const target = makeTempDir('torsh-replication-strong-rebuilt-');
      cleanups.push(target.cleanup);
      const rebuilt = createCore({ dataDir: target.dir, shell: 'headless', logger: silentLogger, metrics: { flushIntervalMs: 0, evaluationIntervalMs: 0, retentionIntervalMs: 0 } });
      cleanups.push(() => rebuilt.close());
      const nodeConfig = replicationSectionSchema.parse(section).nodes[0]!;
      const report = await rebuildFromReplica({ node: new ReplicaNode(nodeConfig, storageForNode(nodeConfig)), registry: rebuilt.registry, access: rebuilt.access, tmpDir: rebuilt.tmpDir, logger: silentLogger });
      expect(report.uncommitted).toEqual([{ name: 'cut-strong', version: '1.0.0' }]);
      expect(report.failed).toEqual([]);
      expect(rebuilt.registry.listVersionRows(0, 100).rows.map((row) => row.name)).not.toContain('cut-strong');

      // The restarted registry drops what the cut publish queued, records included.
      const again = await startServe(['--port', '0', '--data-dir', data.dir, '--config', config], env);
      cleanups.push(() => again.stop());
      await expect.poll(async () => (await readRecord(us, 'cut-strong', '1.0.0')) === null && (await readRecord(eu, 'cut-strong', '1.0.0')) === null, { timeout: 30_000, interval: 200 }).toBe(true);
      const queue = (await (await fetch(`${new URL(again.url).origin}/api/v1/replication/queue`, { headers: { Authorization: `Bearer ${adminKey}` } })).json()) as { tasks: unknown[] };
      expect(queue.tasks).toEqual([]);
      expect((await fetch(`${new URL(again.url).origin}/api/v1/packages/cut-strong/1.0.0`, { headers: { Authorization: `Bearer ${adminKey}` } })).status).toBe(404);
    } finally {
      await restartRegion(ap);
    }
  }, 180_000);
});
