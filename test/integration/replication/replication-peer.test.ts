import { afterAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { replicaMetaRecordSchema } from '../../../shared/domain/replication';
import { startServe, stopAllServing } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';
import { newReplicatingCore, publishFile } from './replication-support';

const peerKey = 'replication-peer-admin-key-0123';
const peerKeyVariable = 'TORSH_REPLICATION_PEER_KEY';
process.env[peerKeyVariable] = peerKey;
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopAllServing();
});

describe('a registry peer (another serve) as a replication node', () => {
  it('receives blob and record through PUT …/replica (Replicate), replays a yank in order, and holds a record whose bytes have not arrived', async () => {
    const peerData = makeTempDir('torsh-replication-peer-');
    cleanups.push(peerData.cleanup);
    const peer = await startServe(['--port', '0', '--data-dir', peerData.dir], { ...process.env, TORSH_DEPOT_ADMIN_KEY: peerKey });
    cleanups.push(() => peer.stop());
    const origin = new URL(peer.url).origin;
    const auth = { Authorization: `Bearer ${peerKey}` };
    const { core } = newReplicatingCore(cleanups, {
      replication_factor: 1,
      consistency: 'quorum',
      ack_timeout: '20s',
      hints: { base_backoff: '200ms', max_backoff: '1s' },
      nodes: [{ id: 'peer', region: 'europe-west4', endpoint: origin, credentials: { api_key: `\${${peerKeyVariable}}` } }],
    });
    const scratch = makeTempDir('torsh-replication-peer-pkgs-');
    cleanups.push(scratch.cleanup);

    // quorum with RF 1: acknowledged once the peer holds the version in its own registry.
    const file = await makeTestPackage(scratch.dir, { name: 'peer-net', version: '1.0.0' });
    const published = await publishFile(core, file, 'quorum');
    const onPeer = async () => (await fetch(`${origin}/api/v1/packages/peer-net/1.0.0`, { headers: auth })).json() as Promise<{ digest: string; yanked: boolean }>;
    expect(await onPeer()).toMatchObject({ digest: published.digest, yanked: false });
    const download = await fetch(`${origin}/api/v1/packages/peer-net/1.0.0/download`, { headers: auth });
    expect(`sha256:${createHash('sha256').update(Buffer.from(await download.arrayBuffer())).digest('hex')}`).toBe(published.digest);

    // A yank on the origin reaches the peer after the version it depends on.
    core.registry.setYanked('peer-net', '1.0.0', true);
    await expect.poll(async () => (await onPeer()).yanked, { timeout: 20_000, interval: 100 }).toBe(true);
    // Replaying the same record again changes nothing.
    const latest = replicaMetaRecordSchema.parse(JSON.parse((await core.replication.queue.latestRecord('peer-net', '1.0.0')) ?? '{}') as unknown);
    const again = await fetch(`${origin}/api/v1/replication/replica/meta/peer-net/1.0.0.json`, { method: 'PUT', headers: auth, body: JSON.stringify(latest) });
    expect(await again.json()).toMatchObject({ outcome: 'already-applied' });

    // A record whose bytes are not on the peer is held: never shown before its blob.
    const missing = { ...latest, version: '9.9.9', digest: `sha256:${randomBytes(32).toString('hex')}`, version_vector: { other: 1 } };
    const held = await fetch(`${origin}/api/v1/replication/replica/meta/peer-net/9.9.9.json`, { method: 'PUT', headers: auth, body: JSON.stringify(missing) });
    expect(held.status).toBe(409);
    expect(((await held.json()) as { error: { reason: string } }).error.reason).toBe('held');
    expect((await fetch(`${origin}/api/v1/packages/peer-net/9.9.9`, { headers: auth })).status).toBe(404);

    // Without a key holding Replicate nothing is taken.
    const anonymous = await fetch(`${origin}/api/v1/replication/replica/meta/peer-net/1.0.0.json`, { method: 'PUT', body: JSON.stringify(latest) });
    expect([401, 403]).toContain(anonymous.status);
  }, 120_000);
});
