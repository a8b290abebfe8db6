import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { replicaKeys } from '../../../shared/domain/replication';
import { runCliProcess, startServe, stopAllServing, type ServingHost } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';
import { killRegion, readRecord, regionStorage, restartRegion, sectionFor, text, useRegions, type Region } from './replication-support';

const adminKey = 'replication-crash-admin-key-0123';
const world = useRegions('torsh-replication-serve-');
const three = world.three;
const cleanups = world.cleanups;
afterAll(() => stopAllServing());

function depotYaml(dir: string): string {
  const file = path.join(dir, 'depot.yaml');
  writeFileSync(file, toYaml({ replication: sectionFor(three, { consistency: 'eventual' }) }));
  return file;
}

async function serve(dataDir: string, config: string): Promise<{ host: ServingHost; api: string }> {
  const host = await startServe(['--port', '0', '--data-dir', dataDir, '--config', config], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  cleanups.push(() => host.stop());
  return { host, api: `${new URL(host.url).origin}/api/v1` };
}

const auth = { Authorization: `Bearer ${adminKey}` };

describe('serve with a replication: section', () => {
  it('kill -9 of serve with 100 copies pending: after restart every copy lands, each with the bytes it should have', async () => {
    const data = makeTempDir('torsh-replication-data-');
    cleanups.push(data.cleanup);
    const config = depotYaml(world.scratch);
    const first = await serve(data.dir, config);
    const ap = three[2] as Region;
    await killRegion(ap);
    const digests = new Map<string, string>();
    try {
      const files = await Promise.all(Array.from({ length: 100 }, (_, index) => makeTestPackage(world.scratch, { name: `crash-${index}`, version: '1.0.0', files: { 'models/weights.pt': 2048 } })));
      for (let start = 0; start < files.length; start += 10) {
        await Promise.all(
          files.slice(start, start + 10).map(async (file, offset) => {
            const index = start + offset;
            const bytes = readFileSync(file);
            const answer = await fetch(`${first.api}/packages/crash-${index}/1.0.0`, { method: 'PUT', headers: { ...auth, 'X-Torsh-Consistency': 'eventual' }, body: bytes });
            expect(answer.status).toBe(201);
            digests.set(`crash-${index}`, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
          }),
        );
      }
      const status = (await (await fetch(`${first.api}/replication/status`, { headers: auth })).json()) as { nodes: Array<{ id: string; queueDepth: number }> };
      expect(status.nodes.find((node) => node.id === 'ap')?.queueDepth).toBe(100);
      first.host.child.kill('SIGKILL');
      await first.host.stop();
    } finally {
      await restartRegion(ap);
    }

    const second = await serve(data.dir, config);
    const queueDepth = async (): Promise<number> => ((await (await fetch(`${second.api}/replication/status`, { headers: auth })).json()) as { queueDepth: number }).queueDepth;
    await expect.poll(queueDepth, { timeout: 240_000, interval: 250 }).toBe(0);

    for (const region of three) {
      const storage = regionStorage(region);
      const blobs = (await storage.list('blobs/sha256/', { limit: 1000 })).objects;
      expect(blobs.length).toBe(100);
      for (const [name, digest] of digests) {
        const record = await readRecord(region, name, '1.0.0');
        expect(record?.digest).toBe(digest);
        const bytes = await text(await storage.get(replicaKeys.blob(digest.slice('sha256:'.length))));
        expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(digest);
      }
    }

    // The CLI sees the same state, and anti-entropy has nothing left to do.
    const env = { ...process.env, TORSH_DEPOT_API_KEY: adminKey };
    const registry = new URL(second.host.url).origin;
    const verify = await runCliProcess(['replication', 'verify', '--registry', registry, '--timeout', '300', '--json'], env, 300_000);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ checked: 300, findings: [] });
    const placement = await runCliProcess(['replication', 'placement', 'crash-7', '1.0.0', '--registry', registry], env);
    expect(placement.stdout.split('\n').filter((line) => line.includes(': done')).length).toBe(3);
    const nodes = await runCliProcess(['replication', 'nodes', '--registry', registry], env);
    expect(nodes.stdout).toMatch(/^ap\s+asia-east1\s+healthy/m);
  }, 780_000);

  it('publish --consistency strong through the CLI fails naming the node that is down, and the version stays invisible', async () => {
    const data = makeTempDir('torsh-replication-data-');
    cleanups.push(data.cleanup);
    const { host, api } = await serve(data.dir, depotYaml(world.scratch));
    const eu = three[1] as Region;
    await killRegion(eu);
    try {
      const file = await makeTestPackage(world.scratch, { name: 'cli-strong', version: '1.0.0' });
      const env = { ...process.env, TORSH_DEPOT_API_KEY: adminKey };
      const registry = new URL(host.url).origin;
      const bad = await runCliProcess(['publish', file, '--registry', registry, '--consistency', 'sometimes'], env);
      expect(bad.code).toBe(2);
      const strong = await runCliProcess(['publish', file, '--registry', registry, '--consistency', 'strong'], env);
      expect(strong.code).toBe(1);
      expect(strong.stderr).toMatch(/strong consistency not met for cli-strong@1\.0\.0/);
      expect(strong.stderr).toMatch(/not confirmed: eu \(/);
      expect((await fetch(`${api}/packages/cli-strong/1.0.0`, { headers: auth })).status).toBe(404);
      const quorum = await runCliProcess(['publish', file, '--registry', registry, '--consistency', 'quorum'], env);
      expect(quorum.code).toBe(0);
      expect((await fetch(`${api}/packages/cli-strong/1.0.0`, { headers: auth })).status).toBe(200);
    } finally {
      await restartRegion(eu);
    }
  }, 120_000);
});
