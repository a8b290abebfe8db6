import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { replicaKeys } from '../../../shared/domain/replication';
import { makeTestPackage } from '../../support/packages';
import {
  holdsCopy,
  killRegion,
  newReplicatingCore,
  publishFile,
  readRecord,
  regionStorage,
  restartRegion,
  sectionFor,
  text,
  type Region,
  useRegions,
} from './replication-support';

const world = useRegions('torsh-replication-pkgs-');
const three = world.three;
const cleanups = world.cleanups;

/** What a call throws (null when it returns). */
function lookUp(call: () => unknown): unknown {
  try {
    call();
    return null;
  } catch (error) {
    return error;
  }
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe('consistency levels with three s3rver regions, RF 3', () => {
  it('eventual, quorum, strong and causal: each is acknowledged at its level and every region ends with blob and record', async () => {
    const { core } = newReplicatingCore(cleanups, sectionFor(three));
    const replication = core.replication;
    if (!replication) throw new Error('replication not built');
    for (const level of ['eventual', 'quorum', 'strong', 'causal'] as const) {
      const name = `levels-${level}`;
      const file = await makeTestPackage(world.scratch, { name, version: '1.0.0', files: { 'models/weights.pt': 300_000 } });
      const result = await publishFile(core, file, level);
      expect(result.created).toBe(true);
      // Visible as soon as the publish returns.
      expect(core.registry.getVersion(name, '1.0.0').digest).toBe(result.digest);
      const confirmedAtAck = (await replication.placement(name, '1.0.0')).nodes.filter((node) => node.state === 'done').length;
      if (level === 'quorum') expect(confirmedAtAck).toBeGreaterThanOrEqual(2);
      if (level === 'strong') expect(confirmedAtAck).toBe(3);
      await expect.poll(async () => (await replication.status()).queueDepth, { timeout: 30_000 }).toBe(0);
      for (const region of three) expect(await holdsCopy(region, name, '1.0.0', result.digest)).toBe(true);
      const record = await readRecord(three[0] as Region, name, '1.0.0');
      expect(record).toMatchObject({ name, version: '1.0.0', size: result.size, yanked: false, visibility: 'internal', published_by: 'test' });
      expect(Object.values(record?.version_vector ?? {})).toEqual([1]);
      expect(readFileSync(file).length).toBe(result.size);
    }
    const status = await replication.status();
    expect(status.nodes.map((node) => [node.id, node.status, node.confirmed])).toEqual([
      ['us', 'healthy', 4],
      ['eu', 'healthy', 4],
      ['ap', 'healthy', 4],
    ]);
    expect(status.nodes.every((node) => node.lagAvgMs !== null && node.lagP95Ms !== null && node.bytes > 0)).toBe(true);
  }, 120_000);

  it('kill -9 of one region: quorum succeeds, strong fails naming the node and stays invisible; the hint drains after restart and anti-entropy finds nothing', async () => {
    const { core } = newReplicatingCore(cleanups, sectionFor(three));
    const replication = core.replication;
    if (!replication) throw new Error('replication not built');
    const down = three[2] as Region;
    await killRegion(down);
    try {
      const quorumFile = await makeTestPackage(world.scratch, { name: 'down-quorum', version: '1.0.0' });
      const quorum = await publishFile(core, quorumFile, 'quorum');
      expect(core.registry.getVersion('down-quorum', '1.0.0').digest).toBe(quorum.digest);

      const strongFile = await makeTestPackage(world.scratch, { name: 'down-strong', version: '1.0.0' });
      const failure = await publishFile(core, strongFile, 'strong').then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'UNAVAILABLE', reason: 'consistency-not-met' });
      expect((failure as Error).message).toMatch(/strong consistency not met for down-strong@1\.0\.0: 2 of 3 replicas/);
      expect((failure as Error).message).toMatch(/not confirmed: ap \(/);
      expect(lookUp(() => core.registry.getVersion('down-strong', '1.0.0'))).toMatchObject({ code: 'NOT_FOUND' });
      // Nothing of the failed publish stays: no queued copy, no record on the regions that had confirmed it.
      expect(await replication.queue.tasksOf('down-strong', '1.0.0')).toEqual([]);
      expect(await readRecord(three[0] as Region, 'down-strong', '1.0.0')).toBeNull();
      expect(await readRecord(three[1] as Region, 'down-strong', '1.0.0')).toBeNull();

      const status = await replication.status();
      const ap = status.nodes.find((node) => node.id === 'ap');
      expect(ap).toMatchObject({ status: 'unhealthy', queueDepth: 1 });
      expect(ap?.hints).toBe(1);
      expect(ap?.lastError).not.toBeNull();
      await replication.updateGauges();
      const scrape = core.metrics.collector.renderPrometheus();
      expect(scrape).toMatch(/^torsh_depot_replication_hints\{target="ap"\} 1$/m);
      expect(scrape).toMatch(/^torsh_depot_replication_queue_depth\{target="ap"\} 1$/m);
      expect(scrape).toMatch(/^torsh_depot_replication_hints\{target="us"\} 0$/m);
      expect(Number(/^torsh_depot_replication_lag_seconds\{target="ap"\} (\S+)$/m.exec(scrape)?.[1])).toBeGreaterThan(0);
      expect(core.metrics.collector.gaugeValue('replication_hints')).toBe(1);
    } finally {
      await restartRegion(down);
    }
    // Hints retry at most every second here (≤ 30 s by default): no manual retry needed.
    await expect.poll(async () => (await replication.status()).queueDepth, { timeout: 30_000, interval: 200 }).toBe(0);
    expect(await holdsCopy(down, 'down-quorum', '1.0.0', core.registry.getVersion('down-quorum', '1.0.0').digest)).toBe(true);
    const report = await replication.verify({ deep: true });
    expect(report.findings).toEqual([]);
    expect(report.checked).toBe(3);

    // With every region back, the strong publish succeeds.
    const again = await makeTestPackage(world.scratch, { name: 'down-strong', version: '1.0.0' });
    await expect(publishFile(core, again, 'strong')).resolves.toMatchObject({ created: true });
  }, 120_000);

  it('anti-entropy restores a deleted object and verify --deep finds and repairs a flipped byte', async () => {
    const { core } = newReplicatingCore(cleanups, sectionFor(three));
    const replication = core.replication;
    if (!replication) throw new Error('replication not built');
    const file = await makeTestPackage(world.scratch, { name: 'entropy', version: '2.0.0', files: { 'models/weights.pt': 100_000 } });
    const published = await publishFile(core, file, 'strong');
    const hex = published.digest.slice('sha256:'.length);
    const eu = three[1] as Region;
    const us = three[0] as Region;

    await regionStorage(eu).delete(replicaKeys.blob(hex));
    await regionStorage(us).delete(replicaKeys.meta('entropy', '2.0.0'));
    const repaired = await replication.verify();
    expect(repaired.findings.map((finding) => [finding.nodeId, finding.problem, finding.repaired])).toEqual([
      ['us', 'record-missing', true],
      ['eu', 'missing', true],
    ]);
    expect(await holdsCopy(eu, 'entropy', '2.0.0', published.digest)).toBe(true);
    expect(await holdsCopy(us, 'entropy', '2.0.0', published.digest)).toBe(true);

    // Flip one byte behind the node's back, keeping size and metadata: only a deep check sees it.
    const storage = regionStorage(eu);
    const bytes = await text(await storage.get(replicaKeys.blob(hex)));
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    await storage.put(replicaKeys.blob(hex), Readable.from([bytes]), { metadata: { sha256: hex } });
    expect((await replication.verify()).findings).toEqual([]);
    const deep = await replication.verify({ deep: true });
    expect(deep.findings.map((finding) => [finding.nodeId, finding.problem, finding.repaired])).toEqual([['eu', 'corrupt', true]]);
    expect(await holdsCopy(eu, 'entropy', '2.0.0', published.digest)).toBe(true);
    expect((await replication.verify({ deep: true })).findings).toEqual([]);
  }, 120_000);

  it('causal: a yank for a region that lacks the version is held until the version lands there', async () => {
    const { core } = newReplicatingCore(cleanups, sectionFor(three, { consistency: 'causal' }));
    const replication = core.replication;
    if (!replication) throw new Error('replication not built');
    const ap = three[2] as Region;
    await killRegion(ap);
    let published;
    try {
      const file = await makeTestPackage(world.scratch, { name: 'causal', version: '1.0.0' });
      published = await publishFile(core, file);
      core.registry.setYanked('causal', '1.0.0', true);
      await expect.poll(async () => Object.fromEntries((await replication.placement('causal', '1.0.0')).nodes.map((node) => [node.nodeId, node.state])), { timeout: 30_000, interval: 100 }).toEqual({ us: 'done', eu: 'done', ap: 'held' });
      expect((await readRecord(three[0] as Region, 'causal', '1.0.0'))?.yanked).toBe(true);
    } finally {
      await restartRegion(ap);
    }
    // The region is back: listing it before the hints drain never shows the yank without the version.
    const seen: Array<{ record: boolean; yanked: boolean; blob: boolean }> = [];
    await expect
      .poll(
        async () => {
          const record = await readRecord(ap, 'causal', '1.0.0');
          const blob = (await regionStorage(ap).head(replicaKeys.blob(published.digest.slice('sha256:'.length)))) !== null;
          seen.push({ record: record !== null, yanked: record?.yanked ?? false, blob });
          return record?.yanked ?? false;
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBe(true);
    expect(seen.every((state) => !state.record || state.blob)).toBe(true);
    const tasks = await replication.queue.tasksOf('causal', '1.0.0');
    const apTasks = tasks.filter((task) => task.nodeId === 'ap');
    expect(apTasks.map((task) => task.operation)).toEqual(['put', 'meta']);
    expect(Date.parse(apTasks[0]?.confirmedAt ?? '')).toBeLessThanOrEqual(Date.parse(apTasks[1]?.confirmedAt ?? ''));
    expect((await readRecord(ap, 'causal', '1.0.0'))?.version_vector).toEqual((await readRecord(three[0] as Region, 'causal', '1.0.0'))?.version_vector);
  }, 120_000);

  it('reads fail over to the nearest replica when the blob store loses a blob, and read repair restores it', async () => {
    const { core, dataDir } = newReplicatingCore(cleanups, sectionFor(three, { region: 'europe-west1' }));
    const replication = core.replication;
    if (!replication) throw new Error('replication not built');
    const file = await makeTestPackage(world.scratch, { name: 'failover', version: '1.0.0', files: { 'models/weights.pt': 200_000 } });
    const published = await publishFile(core, file, 'strong');
    const hex = published.digest.slice('sha256:'.length);
    const local = path.join(dataDir, 'blobs', 'sha256', hex);
    expect(existsSync(local)).toBe(true);
    rmSync(local);

    const nearest = await replication.openReplica(published.digest);
    nearest?.stream.destroy();
    expect(nearest?.nodeId).toBe('eu');
    const { stream } = await core.registry.openDownload('failover', '1.0.0');
    expect(sha256(await text(stream))).toBe(published.digest);
    await expect.poll(() => existsSync(local), { timeout: 20_000 }).toBe(true);
    expect(sha256(readFileSync(local))).toBe(published.digest);
    const ranged = await core.registry.openDownload('failover', '1.0.0', { start: 10, end: 19 });
    expect((await text(ranged.stream)).equals(readFileSync(file).subarray(10, 20))).toBe(true);
  }, 120_000);
});
