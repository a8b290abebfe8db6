import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost, type RunningHost } from '../../../electron/host/http-host';
import { createRegistryRoutes } from '../../../electron/host/registry-routes';
import { createCoreCdnRoutes } from '../../../electron/host/cdn-routes';
import { createMetricsRoute } from '../../../electron/host/metrics-route';
import { RegistryClient } from '../../../electron/services/registry-client/registry-client';
import { cdnBlobKey, cdnIndexKey, versionSurrogateKey, type BestUrlAnswer, type CdnConfigView, type CdnEdgeView, type CdnStatsAnswer, type PurgeReport } from '../../../shared/domain/cdn';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';
import { startVarnishEdge, type VarnishEdge } from '../../support/varnish-edge';

const adminKey = 'cdn-routes-admin-key-0123456789abcdef';
const purgeSecret = 'purge-token-value-never-shown';
let core: Core;
let host: RunningHost;
let origin: string;
let viewerKey: string;
let cleanup: () => void;
const edges: VarnishEdge[] = [];
let packageBytes: Buffer;

async function call<T>(method: string, route: string, key: string | null, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(`${origin}${route}`, {
    method,
    redirect: 'manual',
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text === '' || !response.headers.get('content-type')?.includes('json') ? text : JSON.parse(text)) as T };
}

function cdnSection(min_size: string): Record<string, unknown> {
  return {
    provider: 'varnish',
    origin: { storage: 'registry' },
    http_purge: { purge_token: '${TORSH_TEST_CDN_PURGE_TOKEN}' },
    edges: edges.map((edge, index) => ({ id: edge.id, region: index === 0 ? 'eu-west-1' : 'us-east-1', endpoint: edge.endpoint, capacity_gbps: 10 })),
    routing: { min_size },
    geo: { cidr_regions: [{ cidr: '10.1.0.0/16', region: 'eu-west-1' }, { cidr: '10.2.0.0/16', region: 'us-east-1' }] },
    retry: { max_retries: 1, base_delay: '10ms', max_delay: '20ms' },
    health: { timeout: '2s' },
  };
}

beforeAll(async () => {
  process.env.TORSH_TEST_CDN_PURGE_TOKEN = purgeSecret;
  const temp = makeTempDir('torsh-cdn-routes-');
  cleanup = temp.cleanup;
  core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger });
  core.access.ensureAdminKey(adminKey);
  core.access.configureDefaultVisibility('public');
  const context = core.access.localContext();
  const viewer = core.access.createUser(context, { name: 'scientist', email: 'scientist@example.com' });
  core.access.grantUserRole(context, viewer.id, 'data-scientist', '*');
  viewerKey = core.access.createKey(context, { userId: viewer.id }).key;
  host = await startHttpHost({
    core,
    host: '127.0.0.1',
    port: 0,
    staticDir: null,
    apiRoutes: [
      createCoreCdnRoutes(core),
      createRegistryRoutes({ registry: core.registry, authorizer: core.authorizer, tmpDir: core.tmpDir, maxPackageBytes: () => 1 << 24, logger: silentLogger, route: (request) => core.cdn.route(request) }),
      createMetricsRoute({ metrics: core.metrics.collector, authorizer: core.authorizer, requireKey: () => false }),
    ],
  });
  origin = new URL(host.url).origin;
  core.registryEndpoint.set(origin);
  const file = await makeTestPackage(temp.dir, { name: 'vision/resnet', version: '1.0.0', files: { 'models/weights.pt': 256 * 1024 } });
  packageBytes = readFileSync(file);
  await new RegistryClient({ baseUrl: origin, apiKey: adminKey }).publish(file);
  const port = Number(new URL(origin).port);
  // The product's VCL with a purge token, in front of this host (serve is the origin).
  edges.push(
    await startVarnishEdge({ edgeId: 'edge-eu', originHost: '127.0.0.1', originPort: port, purgeToken: purgeSecret }),
    await startVarnishEdge({ edgeId: 'edge-us', originHost: '127.0.0.1', originPort: port, purgeToken: purgeSecret }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(edges.map((edge) => edge.stop()));
  await host?.close();
  await core?.close();
  cleanup?.();
  delete process.env.TORSH_TEST_CDN_PURGE_TOKEN;
});

describe('/api/v1/cdn over HTTP, two real Varnish edges in front of the registry', () => {
  it('configures the CDN with secret references only, shows them masked, and needs ManageInfrastructure to change it', async () => {
    expect((await call<CdnConfigView>('GET', '/api/v1/cdn/config', adminKey)).body).toEqual({ configured: false, config: null, secrets: [] });
    const inline = { ...cdnSection('1KB'), http_purge: { purge_token: purgeSecret } };
    const refused = await call<{ error: { code: string; message: string } }>('PUT', '/api/v1/cdn/config', adminKey, { cdn: inline });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('cdn.http_purge.purge_token: a secret is written as');
    expect((await call('PUT', '/api/v1/cdn/config', viewerKey, { cdn: cdnSection('1KB') })).status).toBe(403);
    expect((await call('PUT', '/api/v1/cdn/config', null, { cdn: cdnSection('1KB') })).status).toBe(401);

    const saved = await call<CdnConfigView>('PUT', '/api/v1/cdn/config', adminKey, { cdn: cdnSection('1MB') });
    expect(saved.status).toBe(200);
    expect(saved.body.secrets).toEqual([
      { path: 'http_purge.purge_token', reference: '${TORSH_TEST_CDN_PURGE_TOKEN}', masked: '${TORSH_TEST_CDN_PURGE_TOKEN} ••••••••', resolved: true, problem: null },
    ]);
    const read = await call<CdnConfigView>('GET', '/api/v1/cdn/config', viewerKey);
    expect(read.body.config).toMatchObject({ provider: 'varnish', routing: { min_size: '1MB', mode: 'auto' } });
    expect(JSON.stringify(read.body)).not.toContain(purgeSecret);
  });

  it('probes the edges and lists status, region, capacity, load, latency and hit rate', async () => {
    const checked = await call<{ edges: CdnEdgeView[] }>('POST', '/api/v1/cdn/edges', adminKey);
    expect(checked.status).toBe(200);
    const listed = await call<{ edges: CdnEdgeView[] }>('GET', '/api/v1/cdn/edges', viewerKey);
    expect(listed.body.edges.map((edge) => [edge.id, edge.region, edge.capacityGbps, edge.status])).toEqual([
      ['edge-eu', 'eu-west-1', 10, 'healthy'],
      ['edge-us', 'us-east-1', 10, 'healthy'],
    ]);
    for (const edge of listed.body.edges) {
      expect(edge.latencyMs).toBeGreaterThan(0);
      expect(edge.load).toBe(0);
      expect(edge.hitRate).toBeNull();
    }
    const metrics = await (await fetch(`${origin}/metrics`)).text();
    expect(metrics).toMatch(/torsh_depot_cdn_edge_up\{edge="edge-eu"\} 1/);
    expect(metrics).toMatch(/torsh_depot_cdn_edge_latency_seconds\{edge="edge-us"\} [\d.e-]+/);
  });

  it('chooses the best edge by client IP (CIDR table) or region, with the score parts', async () => {
    const byIp = await call<BestUrlAnswer>('GET', '/api/v1/cdn/best-url?name=vision/resnet&version=1.0.0&client_ip=10.2.3.4', null);
    expect(byIp.status).toBe(200);
    expect(byIp.body).toMatchObject({ clientRegion: 'us-east-1', regionSource: 'cidr', edgeId: 'edge-us', url: `${edges[1]!.endpoint}/api/v1/packages/vision/resnet/1.0.0/download` });
    expect(byIp.body.ranking.map((entry) => entry.edgeId)).toEqual(['edge-us', 'edge-eu']);
    expect(byIp.body.ranking[1]!.parts.distance).toBeGreaterThan(5);
    const byRegion = await call<BestUrlAnswer>('GET', '/api/v1/cdn/best-url?name=vision/resnet&version=1.0.0&region=eu-central-1', null);
    expect(byRegion.body).toMatchObject({ regionSource: 'region', edgeId: 'edge-eu' });
    expect((await call('GET', '/api/v1/cdn/best-url?name=vision/resnet&version=1.0.0&client_ip=not-an-ip', null)).status).toBe(400);
  });

  it('routes small packages to the registry and large ones to the edge (download?route=auto), with X-Torsh-Route', async () => {
    const small = await call<string>('GET', '/api/v1/packages/vision/resnet/1.0.0/download?route=auto', null);
    expect(small.status).toBe(200);
    expect(small.headers.get('x-torsh-route')).toBe(`registry; reason="${packageBytes.length} bytes is under min_size 1000000"`);
    expect((await call('PUT', '/api/v1/cdn/config', adminKey, { cdn: cdnSection('1KB') })).status).toBe(200);
    const large = await call<string>('GET', '/api/v1/packages/vision/resnet/1.0.0/download?route=auto', null);
    expect(large.status).toBe(302);
    expect(large.headers.get('x-torsh-route')).toMatch(/^cdn; reason="\d+ bytes is at least min_size 1000; edge edge-(eu|us) \(score [\d.]+: /);
    const location = large.headers.get('location')!;
    expect([edges[0]!.endpoint, edges[1]!.endpoint].some((endpoint) => location.startsWith(`${endpoint}/api/v1/packages/vision/resnet/1.0.0/download`))).toBe(true);
    // Without ?route=auto the registry serves as always.
    expect((await call('GET', '/api/v1/packages/vision/resnet/1.0.0/download', null)).headers.get('x-torsh-route')).toBeNull();
  });

  it('purges by package version (xkey) and by URL with per-URL results; the next GET is a MISS', async () => {
    const url = `${edges[0]!.endpoint}/api/v1/packages/vision/resnet/1.0.0/download`;
    await fetch(url).then((response) => response.arrayBuffer());
    expect((await fetch(url)).headers.get('x-cache')).toBe('HIT');
    const report = await call<PurgeReport>('POST', '/api/v1/cdn/purge', adminKey, { package: 'vision/resnet', version: '1.0.0' });
    expect(report.status).toBe(200);
    expect(report.body.results.filter((result) => result.kind === 'tag').map((result) => [result.target, result.via, result.ok])).toEqual([
      [versionSurrogateKey('vision/resnet', '1.0.0'), 'edge-eu', true],
      [versionSurrogateKey('vision/resnet', '1.0.0'), 'edge-us', true],
    ]);
    const afterTag = await fetch(url);
    await afterTag.arrayBuffer();
    expect(afterTag.headers.get('x-cache')).toBe('MISS');
    const byUrl = await call<PurgeReport>('POST', '/api/v1/cdn/purge', adminKey, { urls: [url] });
    expect(byUrl.body.results.map((result) => [result.kind, result.target, result.ok])).toContainEqual(['url', url, true]);
    expect((await fetch(url)).headers.get('x-cache')).toBe('MISS');
    expect((await call('POST', '/api/v1/cdn/purge', viewerKey, { tags: ['torsh'] })).status).toBe(403);
    expect((await call('POST', '/api/v1/cdn/purge', adminKey, {})).status).toBe(400);
  });

  it('counts transfers in the statistics (hit rate, edge vs origin bytes, per edge and package, over time)', async () => {
    const url = `${edges[1]!.endpoint}/api/v1/packages/vision/resnet/1.0.0/download`;
    for (let index = 0; index < 2; index += 1) {
      const response = await fetch(url);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.equals(packageBytes)).toBe(true);
      await core.cdn.recordTransfer({ edgeId: 'edge-us', name: 'vision/resnet', version: '1.0.0', headers: response.headers, bytes: bytes.length, durationMs: 5 });
    }
    const stats = await call<CdnStatsAnswer>('GET', '/api/v1/cdn/stats?bucket_seconds=60', viewerKey);
    expect(stats.status).toBe(200);
    expect(stats.body.totals).toMatchObject({ hits: 1, misses: 1, hitRate: 0.5, edgeBytes: packageBytes.length, originBytes: packageBytes.length });
    expect(stats.body.byEdge).toEqual([expect.objectContaining({ edgeId: 'edge-us', hits: 1, misses: 1 })]);
    expect(stats.body.byPackage).toEqual([expect.objectContaining({ name: 'vision/resnet', version: '1.0.0' })]);
    expect(stats.body.series.length).toBe(1);
    expect(stats.body.provider).toBeNull();
    const edgesNow = await call<{ edges: CdnEdgeView[] }>('GET', '/api/v1/cdn/edges', viewerKey);
    const us = edgesNow.body.edges.find((edge) => edge.id === 'edge-us')!;
    expect(us.hitRate).toBe(0.5);
    expect(us.load).toBeGreaterThan(0);
    const metrics = await (await fetch(`${origin}/metrics`)).text();
    expect(metrics).toContain('torsh_depot_cdn_hit_ratio{edge="edge-us"} 0.5');
    expect(metrics).toContain(`torsh_depot_cdn_bytes_total{edge="edge-us",source="origin"} ${packageBytes.length}`);
    expect((await call('GET', '/api/v1/cdn/stats?since=yesterday', viewerKey)).status).toBe(400);
  });

  it('uploads a version (blob and index) to a file origin as a job, and refuses a private one on a public origin before any job', async () => {
    const originDir = path.join(path.dirname(core.dataDir), 'origin');
    const section = { ...cdnSection('1KB'), origin: { storage: pathToFileURL(originDir).href, public: true } };
    expect((await call('PUT', '/api/v1/cdn/config', adminKey, { cdn: section })).status).toBe(200);
    expect((await call('POST', '/api/v1/cdn/upload', viewerKey, { name: 'vision/resnet', version: '1.0.0' })).status).toBe(403);
    const started = await call<{ id: string; kind: string }>('POST', '/api/v1/cdn/upload', adminKey, { name: 'vision/resnet', version: '1.0.0' });
    expect(started.status).toBe(202);
    expect(started.body.kind).toBe('cdn-upload');
    await expect.poll(() => core.jobs.get(started.body.id).status, { timeout: 30_000 }).toBe('succeeded');
    expect(readFileSync(path.join(originDir, cdnBlobKey('vision/resnet', '1.0.0'))).equals(packageBytes)).toBe(true);
    expect(JSON.parse(readFileSync(path.join(originDir, cdnIndexKey('vision/resnet')), 'utf8'))).toMatchObject({ name: 'vision/resnet', versions: [{ version: '1.0.0' }] });

    core.access.setPackageAccess(core.access.localContext(), 'vision/resnet', { visibility: 'private' });
    const refused = await call<{ error: { code: string; message: string } }>('POST', '/api/v1/cdn/upload', adminKey, { name: 'vision/resnet', version: '1.0.0' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('vision/resnet@1.0.0 is private');
    // Private versions never leave the registry through ?route=auto either.
    const routed = await call('GET', '/api/v1/packages/vision/resnet/1.0.0/download?route=auto', adminKey);
    expect(routed.status).toBe(200);
    expect(routed.headers.get('x-torsh-route')).toBe('registry; reason="not public: served by the registry to this caller"');
    core.access.setPackageAccess(core.access.localContext(), 'vision/resnet', { visibility: 'public' });
  });
});
