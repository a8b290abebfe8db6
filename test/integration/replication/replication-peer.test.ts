import { afterAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { replicaMetaRecordSchema } from '../../../shared/domain/replication';
import { runCliProcess, startServe, stopAllServing } from '../../support/cli-process';
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

/** A TCP proxy the test can cut (a partition) and restore on the same port. */
async function startProxy(targetHost: string, targetPort: number): Promise<{ port: number; cut: () => Promise<void>; restore: () => Promise<void>; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const listen = (): Promise<void> =>
    new Promise((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server?.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const cut = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

function holdsBlob(dir: string, digest: string): boolean {
  const hex = digest.slice('sha256:'.length);
  return readdirSync(dir, { recursive: true }).some((entry) => String(entry).endsWith(hex));
}

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

  it('two registries partitioned accept the same version with other bytes: one conflict, both byte sets kept, resolved by policy with an audit entry', async () => {
    const peerData = makeTempDir('torsh-replication-peer-b-');
    cleanups.push(peerData.cleanup);
    // Bound to 127.0.0.2: a loopback-only bind refuses a Host naming another port (the proxy's).
    const peer = await startServe(['--port', '0', '--host', '127.0.0.2', '--data-dir', peerData.dir], { ...process.env, TORSH_DEPOT_ADMIN_KEY: peerKey });
    cleanups.push(() => peer.stop());
    const origin = new URL(peer.url).origin;
    const auth = { Authorization: `Bearer ${peerKey}` };
    const proxy = await startProxy('127.0.0.2', Number(new URL(peer.url).port));
    cleanups.push(() => proxy.close());
    const { core } = newReplicatingCore(cleanups, {
      replication_factor: 1,
      consistency: 'eventual',
      region: 'us-east-1',
      hints: { base_backoff: '200ms', max_backoff: '1s' },
      nodes: [{ id: 'peer', region: 'europe-west4', endpoint: `http://127.0.0.1:${proxy.port}`, credentials: { api_key: `\${${peerKeyVariable}}` } }],
    });
    const scratch = makeTempDir('torsh-replication-peer-conflict-');
    cleanups.push(scratch.cleanup);

    await proxy.cut();
    const theirs = await makeTestPackage(scratch.dir, { name: 'split-net', version: '1.0.0', files: { 'models/a.pt': 1000 } });
    const onPeer = await fetch(`${origin}/api/v1/packages/split-net/1.0.0`, { method: 'PUT', headers: auth, body: readFileSync(theirs) });
    expect(onPeer.status).toBe(201);
    const peerDigest = ((await onPeer.json()) as { digest: string }).digest;
    const ours = await makeTestPackage(scratch.dir, { name: 'split-net', version: '1.0.0', files: { 'models/b.pt': 2000 } });
    const local = await publishFile(core, ours, 'eventual');
    expect(local.digest).not.toBe(peerDigest);
    await proxy.restore();

    const conflicts = async () => ((await (await fetch(`${origin}/api/v1/replication/conflicts`, { headers: auth })).json()) as { conflicts: Array<{ id: number; kind: string; local: { digest: string }; remote: { digest: string }; resolution: unknown }> }).conflicts;
    await expect.poll(async () => (await conflicts()).length, { timeout: 30_000, interval: 200 }).toBe(1);
    // Retries of the same write do not add conflicts; nothing was overwritten; both byte sets are on the peer.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const [conflict] = await conflicts();
    expect(await conflicts()).toHaveLength(1);
    expect(conflict).toMatchObject({ kind: 'bytes', local: { digest: peerDigest }, remote: { digest: local.digest }, resolution: null });
    expect(((await (await fetch(`${origin}/api/v1/packages/split-net/1.0.0`, { headers: auth })).json()) as { digest: string }).digest).toBe(peerDigest);
    expect(holdsBlob(peerData.dir, peerDigest)).toBe(true);
    expect(holdsBlob(peerData.dir, local.digest)).toBe(true);
    expect(await core.replication.queueDepth()).toBe(1);

    const env = { ...process.env, TORSH_DEPOT_API_KEY: peerKey };
    const listed = await runCliProcess(['replication', 'conflicts', '--registry', origin], env);
    expect(listed.stdout).toMatch(new RegExp(`^${conflict?.id}\\s+split-net@1\\.0\\.0\\s+bytes\\s.*\\sopen$`, 'm'));
    // First published (by clock) wins: the peer's own publish came first.
    const resolved = await runCliProcess(['replication', 'resolve', String(conflict?.id), '--policy', 'first-published', '--registry', origin, '--json'], env);
    expect(resolved.stderr).toBe('');
    expect(JSON.parse(resolved.stdout)).toMatchObject({ resolution: { winner: 'local', policy: 'first-published' } });
    const audit = (await (await fetch(`${origin}/api/v1/audit`, { headers: auth })).json()) as { events: Array<{ action: string; target: string }> };
    expect(audit.events).toContainEqual(expect.objectContaining({ action: 'replication.conflict.resolve', target: 'package:split-net@1.0.0' }));
    // Resolved: the origin's retry is acknowledged, and its hint drains.
    await expect.poll(() => core.replication.queueDepth(), { timeout: 30_000, interval: 200 }).toBe(0);
    expect(((await (await fetch(`${origin}/api/v1/packages/split-net/1.0.0`, { headers: auth })).json()) as { digest: string }).digest).toBe(peerDigest);
  }, 120_000);
});
