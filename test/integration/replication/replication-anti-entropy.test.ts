import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { replicaKeys, verifyReportSchema } from '../../../shared/domain/replication';
import { makeTestPackage } from '../../support/packages';
import { holdsCopy, newReplicatingCore, publishFile, readRecord, regionStorage, sectionFor, text, useRegions, type Region } from './replication-support';

const world = useRegions('torsh-replication-entropy-');
const three = world.three;
const cleanups = world.cleanups;

describe('anti-entropy: hash trees per node, periodic, as a job', () => {
  it('restores on its own a blob deleted and a record rewritten behind the nodes’ backs, records the job, then finds nothing to do', async () => {
    const { core } = newReplicatingCore(cleanups, sectionFor(three, { anti_entropy_interval: '1s' }));
    const replication = core.replication;
    const files = await Promise.all(['alpha', 'beta', 'gamma'].map((name) => makeTestPackage(world.scratch, { name: `entropy-${name}`, version: '1.0.0', files: { 'models/weights.pt': 20_000 } })));
    const published = [];
    for (const file of files) published.push(await publishFile(core, file, 'strong'));
    const [us, eu] = three as [Region, Region, Region];
    const alpha = published[0]!;
    const hex = alpha.digest.slice('sha256:'.length);

    // A blob gone from eu, and on us a record changed to the same size (only its MD5 tells).
    await regionStorage(eu).delete(replicaKeys.blob(hex));
    const recordKey = replicaKeys.meta('entropy-beta', '1.0.0');
    const original = (await text(await regionStorage(us).get(recordKey))).toString();
    const tampered = original.replace('"yanked": false', '"yanked": true ');
    expect(tampered).not.toBe(original);
    expect(Buffer.byteLength(tampered)).toBe(Buffer.byteLength(original));
    await regionStorage(us).put(recordKey, Readable.from([Buffer.from(tampered)]), { contentType: 'application/json' });

    await expect.poll(async () => (await holdsCopy(eu, 'entropy-alpha', '1.0.0', alpha.digest)) && (await readRecord(us, 'entropy-beta', '1.0.0'))?.yanked === false, { timeout: 30_000, interval: 250 }).toBe(true);
    const runs = core.jobs.list(50).filter((job) => job.kind === 'replication-anti-entropy' && job.status === 'succeeded');
    const repairedRun = runs.map((job) => verifyReportSchema.parse(job.result)).find((report) => report.findings.length > 0);
    expect(repairedRun?.findings.map((finding) => [finding.nodeId, finding.name, finding.problem, finding.repaired]).sort()).toEqual([
      ['eu', 'entropy-alpha', 'missing', true],
      ['us', 'entropy-beta', 'record-stale', true],
    ]);
    expect(runs.every((job) => job.progress === 1)).toBe(true);

    // Everything in sync: the trees agree, nothing to repair (and on demand the same).
    const now = await replication.verify();
    expect(now.findings).toEqual([]);
    expect(now.checked).toBe(9);
    expect(now.jobId).toEqual(expect.any(String));
  }, 120_000);
});
