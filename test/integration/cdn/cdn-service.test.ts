import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { applyDepotConfig, exportDepotConfig } from '../../../electron/services/config/apply-depot-config';
import { parseDepotConfig } from '../../../electron/services/config/depot-config-file';
import { makeTempDir } from '../../support/temp-dir';
import { startApiRecorder } from '../../support/api-recorder';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sectionYaml = `
cdn:
  provider: fastly
  origin: { storage: registry }
  fastly: { service_id: SU1Z0isxPaozGVKXdv0eY, api_key: "file:./fastly-key" }
  edges:
    - { id: fra, region: eu-central-1, endpoint: "https://fra.cdn.example.com" }
    - { id: iad, region: us-east-1, endpoint: "https://iad.cdn.example.com", capacity_gbps: 40 }
  routing: { min_size: 50MB }
  health_check_interval: 30s
`;

describe('CdnService in the composition root', () => {
  it('takes the cdn: section through the one loader, keeps it across restarts, masks secrets, refuses what does not resolve', async () => {
    const temp = makeTempDir('torsh-cdn-service-');
    cleanups.push(temp.cleanup);
    const dataDir = path.join(temp.dir, 'data');
    const keyFile = path.join(temp.dir, 'fastly-key');
    writeFileSync(keyFile, 'fastly-secret-value\n');
    chmodSync(keyFile, 0o600);

    let core = createCore({ dataDir, shell: 'headless', logger: silentLogger });
    expect(await core.cdn.section()).toBeNull();
    expect(await core.cdn.configView()).toEqual({ configured: false, config: null, secrets: [] });
    const applied = await applyDepotConfig(core, parseDepotConfig(sectionYaml, 'depot.yaml'), temp.dir);
    expect(applied.applied).toEqual(['cdn']);
    const view = await core.cdn.configView();
    expect(view.secrets).toEqual([{ path: 'fastly.api_key', reference: `file:${keyFile}`, masked: 'file:…/fastly-key ••••••••', resolved: true, problem: null }]);
    expect(JSON.stringify(view)).not.toContain('fastly-secret-value');
    expect(view.config).toMatchObject({ provider: 'fastly', routing: { min_size: '50MB' }, health_check_interval: '30s' });
    await core.close();

    core = createCore({ dataDir, shell: 'headless', logger: silentLogger });
    cleanups.push(() => core.close());
    const kept = await core.cdn.section();
    expect(kept?.edges.map((edge) => edge.id)).toEqual(['fra', 'iad']);
    expect(kept?.routing.min_size).toBe(50_000_000);
    expect((await core.cdn.edges()).map((edge) => [edge.id, edge.status, edge.load, edge.hitRate])).toEqual([
      ['fra', 'unknown', 0, null],
      ['iad', 'unknown', 0, null],
    ]);
    // The export writes the section back in the file's own form.
    const exported = parseDepotConfig(await exportDepotConfig(core), 'exported.yaml');
    expect(exported.cdn?.routing.min_size).toBe(50_000_000);

    // A reference that does not resolve: refused, the section in force stays.
    const unset = { ...(view.config as Record<string, unknown>), fastly: { service_id: 'SU1Z0isxPaozGVKXdv0eY', api_key: '${TORSH_TEST_UNSET_FASTLY_KEY}' } };
    await expect(core.cdn.replaceSection(unset as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('cdn.fastly.api_key') });
    const inline = { ...unset, fastly: { service_id: 'SU1Z0isxPaozGVKXdv0eY', api_key: 'plain-text-key' } };
    await expect(core.cdn.replaceSection(inline as never)).rejects.toMatchObject({ message: expect.stringContaining('a secret is written as') });
    expect((await core.cdn.section())?.fastly?.api_key).toBe(`file:${keyFile}`);

    // Hybrid routing: small packages stay on the registry, large ones go to an edge (none probed yet: listed, eligible).
    core.registryEndpoint.set('http://127.0.0.1:7878');
    const small = await core.cdn.route({ name: 'vision/resnet', version: '1.0.0', size: 1000, region: 'eu-west-1' });
    expect(small?.kind).toBe('registry');
    expect(small?.header).toBe('registry; reason="1000 bytes is under min_size 50000000"');
    const large = await core.cdn.route({ name: 'vision/resnet', version: '1.0.0', size: 60_000_000, region: 'eu-west-1' });
    expect(large?.kind).toBe('cdn');
    expect(large?.url).toBe('https://fra.cdn.example.com/api/v1/packages/vision/resnet/1.0.0/download');

    await core.cdn.replaceSection(null);
    expect(await core.cdn.section()).toBeNull();
    expect(await core.cdn.route({ name: 'a', version: '1.0.0', size: 1 })).toBeNull();
  }, 60_000);

  it('shows Cloudflare GraphQL cache analytics next to our own statistics when cloudflare.analytics is on', async () => {
    const temp = makeTempDir('torsh-cdn-analytics-');
    cleanups.push(temp.cleanup);
    const token = 'cf-analytics-token-never-shown';
    process.env.TORSH_TEST_CF_ANALYTICS_TOKEN = token;
    cleanups.push(() => delete process.env.TORSH_TEST_CF_ANALYTICS_TOKEN);
    const server = await startApiRecorder((call) => {
      if (call.url !== '/client/v4/graphql' || call.headers.authorization !== `Bearer ${token}`) return { status: 403, body: '{"success":false}' };
      const group = (cacheStatus: string, count: number, bytes: number) => ({ count, sum: { edgeResponseBytes: bytes }, dimensions: { cacheStatus } });
      return { status: 200, body: JSON.stringify({ data: { viewer: { zones: [{ httpRequestsAdaptiveGroups: [group('hit', 30, 3000), group('miss', 10, 1000)] }] } }, errors: null }) };
    });
    cleanups.push(() => server.stop());
    const core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger });
    cleanups.push(() => core.close());
    const section = {
      provider: 'cloudflare',
      origin: { storage: 'registry' },
      cloudflare: { zone_id: '023e105f4ecef8ad9ca31a8372d0c353', api_token: '${TORSH_TEST_CF_ANALYTICS_TOKEN}', endpoint: `${server.url}/client/v4`, analytics: false },
      retry: { max_retries: 0 },
    } as const;
    await core.cdn.replaceSection(section);
    expect((await core.cdn.stats()).provider).toBeNull();
    expect(server.calls).toHaveLength(0);
    await core.cdn.replaceSection({ ...section, cloudflare: { ...section.cloudflare, analytics: true } });
    const stats = await core.cdn.stats();
    expect(stats.totals.hits).toBe(0);
    expect(stats.provider).toMatchObject({ provider: 'cloudflare', requests: 40, cachedRequests: 30, bytes: 4000, cachedBytes: 3000 });
    expect(stats.providerError).toBeNull();
    expect(JSON.stringify(stats)).not.toContain(token);
  });
});
