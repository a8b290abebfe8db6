import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost, type RunningHost } from '../../../electron/host/http-host';
import { createRegistryRoutes } from '../../../electron/host/registry-routes';
import { RegistryClient } from '../../../electron/services/registry-client/registry-client';
import type { MirrorDownloadEvent } from '../../../electron/services/mirrors/download/download-types';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';
import { startVarnishEdge, type VarnishEdge } from '../../support/varnish-edge';

const adminKey = 'cdn-failover-admin-key-0123456789abcdef';
let core: Core;
let host: RunningHost;
let origin: string;
let work: { dir: string; cleanup: () => void };
let packageFile: string;
const edges: VarnishEdge[] = [];

beforeAll(async () => {
  work = makeTempDir('torsh-cdn-failover-');
  core = createCore({ dataDir: path.join(work.dir, 'data'), shell: 'headless', logger: silentLogger });
  core.access.ensureAdminKey(adminKey);
  core.access.configureDefaultVisibility('public');
  host = await startHttpHost({
    core,
    host: '127.0.0.1',
    port: 0,
    staticDir: null,
    apiRoutes: [createRegistryRoutes({ registry: core.registry, authorizer: core.authorizer, tmpDir: core.tmpDir, maxPackageBytes: () => 1 << 30, logger: silentLogger })],
  });
  origin = new URL(host.url).origin;
  packageFile = await makeTestPackage(work.dir, { name: 'vision/big', version: '2.0.0', files: { 'models/weights.pt': 48 * 1024 * 1024 } });
  await new RegistryClient({ baseUrl: origin, apiKey: adminKey }).publish(packageFile);
  const port = Number(new URL(origin).port);
  edges.push(await startVarnishEdge({ edgeId: 'edge-near', originHost: '127.0.0.1', originPort: port }), await startVarnishEdge({ edgeId: 'edge-far', originHost: '127.0.0.1', originPort: port }));
  // Edge downloads take the mirrors' failover settings: a dead edge is given up on quickly here.
  const mirrorSettings = await core.mirrors.settings();
  await core.mirrors.setSettings({ ...mirrorSettings, failover: { ...mirrorSettings.failover, max_retries: 1, retry_delay: 50 } });
  await core.cdn.replaceSection({
    provider: 'varnish',
    origin: { storage: 'registry' },
    edges: [
      { id: 'edge-near', region: 'eu-west-1', endpoint: edges[0]!.endpoint },
      { id: 'edge-far', region: 'us-east-1', endpoint: edges[1]!.endpoint },
    ],
  });
}, 180_000);

afterAll(async () => {
  await Promise.all(edges.map((edge) => edge.stop()));
  await host?.close();
  await core?.close();
  work?.cleanup();
});

describe('an edge killed mid-download', () => {
  it('the next edge finishes the file with Range, the digest checks, both edges are counted', async () => {
    const expectedBytes = readFileSync(packageFile);
    const metadata = core.registry.getVersion('vision/big', '2.0.0');
    // Warm the near edge so the download starts from its cache.
    const warm = await fetch(`${edges[0]!.endpoint}/api/v1/packages/vision/big/2.0.0/download`);
    await warm.arrayBuffer();

    let killed = false;
    const ranges: string[] = [];
    // Kills varnishd (manager and worker, by PID) once the near edge is serving past a quarter of the file.
    const onResponse = (id: string, response: { status: number; start: number }): void => {
      ranges.push(`${id} ${response.status} ${response.start}`);
      if (id === 'edge-near' && !killed && response.start > expectedBytes.length / 4) {
        killed = true;
        edges[0]!.kill();
      }
    };
    const events: MirrorDownloadEvent[] = [];
    const dest = path.join(work.dir, 'pulled.torshpkg');
    const result = await core.cdn.download(
      { name: 'vision/big', version: '2.0.0', expected: { sha256: metadata.digest, size: metadata.size }, destPath: dest, region: 'eu-west-2' },
      { onResponse, onEvent: (event) => events.push(event) },
    );
    expect(killed).toBe(true);
    expect(result.failovers).toBeGreaterThanOrEqual(1);
    expect(events.some((event) => event.type === 'failover' && event.mirror === 'edge-near')).toBe(true);
    // The far edge resumed from where the near one stopped, not from byte 0.
    const farStarts = ranges.filter((line) => line.startsWith('edge-far 206 ')).map((line) => Number(line.split(' ')[2]));
    expect(Math.min(...farStarts)).toBeGreaterThan(expectedBytes.length / 4);
    const written = readFileSync(dest);
    expect(written.length).toBe(expectedBytes.length);
    expect(`sha256:${createHash('sha256').update(written).digest('hex')}`).toBe(metadata.digest);
    const usage = new Map(result.mirrors.map((entry) => [entry.id, entry.bytes]));
    expect((usage.get('edge-near') ?? 0) + (usage.get('edge-far') ?? 0)).toBe(expectedBytes.length);
    expect(usage.get('edge-near')).toBeGreaterThan(0);
    expect(usage.get('edge-far')).toBeGreaterThan(0);
    expect(result.outcomes.get('edge-near')).toBe('hit');

    const stats = await core.cdn.stats();
    expect(stats.byEdge.map((entry) => entry.edgeId)).toEqual(['edge-far', 'edge-near']);
    expect(stats.byEdge.find((entry) => entry.edgeId === 'edge-near')).toMatchObject({ hits: 1, edgeBytes: usage.get('edge-near') });
  }, 120_000);
});
