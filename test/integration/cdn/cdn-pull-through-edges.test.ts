import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, createReadStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { receiveUpload } from '../../../electron/services/registry/upload-receiver';
import { runCliProcess, startServe, type ServingHost } from '../../support/cli-process';
import { freePort } from '../../support/nginx-server';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';
import { startVarnishEdge, type VarnishEdge } from '../../support/varnish-edge';

const adminKey = 'cdn-pull-admin-key-0123456789abcdef';
const temp = makeTempDir('torsh-cdn-pull-');
const work = path.join(temp.dir, 'work');
const edges: VarnishEdge[] = [];
const proxies: ThrottledProxy[] = [];
let host: ServingHost;
let packageFile: string;

interface ThrottledProxy {
  endpoint: string;
  /** Bytes sent to clients so far. */
  sent(): number;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of a real Varnish edge that passes answers on at `bytesPerSec`, so a download
 * through it lasts long enough to kill the edge behind it mid-transfer; when the edge dies, its
 * clients' connections drop with it.
 */
async function throttledProxy(targetPort: number, bytesPerSec: number, onBytes: (total: number) => void): Promise<ThrottledProxy> {
  let total = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const started = Date.now();
    let relayed = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      relayed += chunk.length;
      total += chunk.length;
      client.write(chunk);
      onBytes(total);
      const aheadMs = (relayed / bytesPerSec) * 1000 - (Date.now() - started);
      if (aheadMs > 0) {
        upstream.pause();
        setTimeout(() => upstream.resume(), aheadMs);
      }
    });
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    upstream.on('close', drop).on('error', drop);
    client.on('close', drop).on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    sent: () => total,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const registry = (): string => new URL(host.url).origin;
const size = 40 * 1024 * 1024;
let killedEdge: string | null = null;

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  const port = await freePort();
  edges.push(await startVarnishEdge({ edgeId: 'edge-a', originHost: '127.0.0.1', originPort: port }), await startVarnishEdge({ edgeId: 'edge-b', originHost: '127.0.0.1', originPort: port }));
  // Whichever edge serves first is killed (by PID) once a quarter of the package went through it.
  for (const edge of edges) {
    proxies.push(
      await throttledProxy(edge.port, 16 * 1024 * 1024, (sent) => {
        if (killedEdge === null && sent > size / 4) {
          killedEdge = edge.id;
          edge.kill();
        }
      }),
    );
  }
  // YAML is a superset of JSON: the section written as data.
  const config = path.join(work, 'depot.yaml');
  const section = {
    provider: 'varnish',
    origin: { storage: 'registry' },
    health_check_interval: '1h',
    routing: { min_size: '1MB' },
    edges: edges.map((edge, index) => ({ id: edge.id, region: index === 0 ? 'eu-central-1' : 'us-east-1', endpoint: proxies[index]!.endpoint, capacity_gbps: 10 })),
  };
  writeFileSync(config, JSON.stringify({ cdn: section }, null, 2));
  const dataDir = path.join(temp.dir, 'data');
  const core = createCore({ dataDir, shell: 'headless', logger: silentLogger });
  try {
    core.access.configureDefaultVisibility('public');
    packageFile = await makeTestPackage(work, { name: 'vision/big', version: '2.0.0', files: { 'models/weights.pt': size } });
    await core.registry.publishUpload(await receiveUpload(createReadStream(packageFile), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'test' });
    const small = await makeTestPackage(work, { name: 'vision/tiny', version: '1.0.0', files: { 'models/weights.pt': 16 * 1024 } });
    await core.registry.publishUpload(await receiveUpload(createReadStream(small), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'test' });
  } finally {
    await core.close();
  }
  host = await startServe(['--port', String(port), '--data-dir', dataDir, '--config', config], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
}, 180_000);

afterAll(async () => {
  await host?.stop();
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all(edges.map((edge) => edge.stop()));
  temp.cleanup();
});

const statsOf = async (): Promise<{ byEdge: { edgeId: string; edgeBytes: number; originBytes: number; misses: number; hits: number; unknown: number }[] }> => {
  const response = await fetch(`${registry()}/api/v1/cdn/stats`, { headers: { Authorization: `Bearer ${adminKey}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as { byEdge: { edgeId: string; edgeBytes: number; originBytes: number; misses: number; hits: number; unknown: number }[] };
};

describe('torsh-depot pull through the CDN (serve --config, two real Varnish edges)', () => {
  it('switches edge when the serving varnishd is killed mid-download, verifies the digest and reports the transfer', async () => {
    const dest = path.join(work, 'pulled.torshpkg');
    const result = await runCliProcess(['pull', 'vision/big@2.0.0', '--registry', registry(), '--api-key', adminKey, '-o', dest], process.env, 120_000);
    expect(result.stderr).toContain('via CDN (cdn;');
    expect(result.code).toBe(0);
    expect(killedEdge).not.toBeNull();
    expect(result.stderr).toMatch(new RegExp(`edge ${killedEdge ?? ''} failed at`));
    const expected = readFileSync(packageFile);
    const written = readFileSync(dest);
    expect(written.length).toBe(expected.length);
    const digest = `sha256:${createHash('sha256').update(written).digest('hex')}`;
    expect(result.stdout).toContain(digest);

    // Both edges delivered part of the file, and the registry's statistics count what the client reported.
    const stats = await statsOf();
    const other = killedEdge === 'edge-a' ? 'edge-b' : 'edge-a';
    const killed = stats.byEdge.find((entry) => entry.edgeId === killedEdge);
    const survivor = stats.byEdge.find((entry) => entry.edgeId === other);
    expect(killed).toBeDefined();
    expect(survivor).toBeDefined();
    expect((killed?.edgeBytes ?? 0) + (killed?.originBytes ?? 0)).toBeGreaterThanOrEqual(size / 4 - 1024 * 1024);
    const counted = [killed, survivor].reduce((sum, entry) => sum + (entry?.edgeBytes ?? 0) + (entry?.originBytes ?? 0), 0);
    expect(counted).toBe(expected.length);
    // A first fetch through a cold Varnish is a miss, read from its X-Cache header.
    expect(killed?.misses).toBe(1);
  }, 150_000);

  it('a small version stays on the registry: no edge, nothing reported', async () => {
    const before = await statsOf();
    const dest = path.join(work, 'tiny.torshpkg');
    const result = await runCliProcess(['pull', 'vision/tiny@1.0.0', '--registry', registry(), '--api-key', adminKey, '-o', dest]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('via CDN');
    expect((await statsOf()).byEdge).toEqual(before.byEdge);
  }, 60_000);

  it('transfer reports need an API key and a configured edge', async () => {
    const body = JSON.stringify({ transfers: [{ name: 'vision/big', version: '2.0.0', edge_id: 'edge-a', bytes: 10, cache: 'hit', duration_ms: 5 }] });
    const anonymous = await fetch(`${registry()}/api/v1/cdn/transfers`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(anonymous.status).toBe(401);
    const unknown = await fetch(`${registry()}/api/v1/cdn/transfers`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminKey}` },
      body: body.replace('edge-a', 'edge-z'),
    });
    expect(unknown.status).toBe(400);
    const before = await statsOf();
    const accepted = await fetch(`${registry()}/api/v1/cdn/transfers`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminKey}` }, body });
    expect(accepted.status).toBe(200);
    const after = await statsOf();
    const hitsOf = (stats: typeof before): number => stats.byEdge.find((entry) => entry.edgeId === 'edge-a')?.hits ?? 0;
    expect(hitsOf(after)).toBe(hitsOf(before) + 1);
  }, 60_000);
});
