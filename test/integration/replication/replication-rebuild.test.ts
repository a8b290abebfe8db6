import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { createCore } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { signFile } from '../../../electron/services/signing/file-signature';
import { runCliProcess } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';
import { newReplicatingCore, publishFile, sectionFor, useRegions } from './replication-support';

const world = useRegions('torsh-replication-rebuild-');
const three = world.three;
const cleanups = world.cleanups;

describe('replication rebuild', () => {
  it('rebuilds from one s3rver a registry whose listing, digests, yanks, signatures and visibility equal the original', async () => {
    const section = sectionFor(three);
    const { core } = newReplicatingCore(cleanups, section);
    const replication = core.replication;
    if (!replication) throw new Error('replication not built');
    const key = await core.keyring.generate('Release');
    const files: string[] = [];
    for (const [name, version] of [
      ['vision/resnet', '1.0.0'],
      ['vision/resnet', '1.1.0'],
      ['bert', '2.0.0'],
    ] as const) {
      const file = await makeTestPackage(world.scratch, { name, version });
      files.push(file);
      await publishFile(core, file, 'quorum');
    }
    core.registry.setYanked('vision/resnet', '1.0.0', true);
    await core.registry.putSignature('bert', '2.0.0', await signFile(files[2] ?? '', core.keyring.pair(key.keyId)), 'test', { id: null, mayReplaceAny: true });
    await expect.poll(async () => (await replication.status()).queueDepth, { timeout: 60_000, interval: 100 }).toBe(0);

    const config = path.join(world.scratch, 'depot.yaml');
    writeFileSync(config, toYaml({ replication: section }));
    const target = makeTempDir('torsh-replication-rebuilt-');
    cleanups.push(target.cleanup);
    const result = await runCliProcess(['replication', 'rebuild', '--from', 'eu', '--config', config, '--data-dir', target.dir, '--json'], process.env, 120_000);
    expect(result.stderr).not.toMatch(/not restored/);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ node: 'eu', versions: 3, yanked: 1, signatures: 1, failed: [] });

    const rebuilt = createCore({ dataDir: target.dir, shell: 'headless', logger: silentLogger, metrics: { flushIntervalMs: 0, evaluationIntervalMs: 0, retentionIntervalMs: 0 } });
    cleanups.push(() => rebuilt.close());
    const listing = (registry: typeof core.registry) =>
      registry
        .listVersionRows(0, 100)
        .rows.map((row) => ({ name: row.name, version: row.version, digest: registry.getVersion(row.name, row.version).digest, size: row.size, yanked: row.yanked }))
        .sort((a, b) => `${a.name}@${a.version}`.localeCompare(`${b.name}@${b.version}`));
    expect(listing(rebuilt.registry)).toEqual(listing(core.registry));
    expect(listing(rebuilt.registry)).toHaveLength(3);
    expect(rebuilt.registry.getSignature('bert', '2.0.0')).toBe(core.registry.getSignature('bert', '2.0.0'));
    for (const name of ['bert', 'vision/resnet']) {
      expect(rebuilt.access.packageAccess(rebuilt.access.localPrincipal(), name).visibility).toBe(core.access.packageAccess(core.access.localPrincipal(), name).visibility);
    }
  }, 300_000);
});
