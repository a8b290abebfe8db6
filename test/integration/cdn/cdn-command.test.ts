import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliProcess } from '../../support/cli-process';
import { startApiRecorder, type ApiRecorder } from '../../support/api-recorder';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function configFile(yaml: string): string {
  const temp = makeTempDir('torsh-cdn-cli-');
  cleanups.push(temp.cleanup);
  const file = path.join(temp.dir, 'depot.yaml');
  writeFileSync(file, yaml);
  return file;
}

async function recorder(handle: Parameters<typeof startApiRecorder>[0]): Promise<ApiRecorder> {
  const started = await startApiRecorder(handle);
  cleanups.push(() => started.stop());
  return started;
}

const cloudflareConfig = `
cdn:
  provider: cloudflare
  origin:
    storage: s3://models-origin
    base_url: https://cdn.example.com
  cloudflare:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    api_token: \${CF_API_TOKEN}
  retry: { max_retries: 1, base_delay: 10ms, max_delay: 20ms }
  edges:
    - { id: fra, region: eu-central-1, endpoint: "https://fra.cdn.example.com" }
    - { id: iad, region: us-east-1, endpoint: "https://iad.cdn.example.com", capacity_gbps: 40 }
  geo:
    cidr_regions:
      - { cidr: 203.0.113.0/24, region: us-east-2 }
`;

describe('torsh-depot cdn', () => {
  it('purges a version by its surrogate key and URLs through --endpoint, token from the environment, never printed', async () => {
    const server = await recorder((call) => {
      expect(call.url).toBe('/zones/023e105f4ecef8ad9ca31a8372d0c353/purge_cache');
      expect(call.headers.authorization).toBe('Bearer cf-secret-token');
      return { status: 200, body: JSON.stringify({ success: true, errors: [], messages: [], result: { id: 'p1' } }) };
    });
    const file = configFile(cloudflareConfig);
    const result = await runCliProcess(['cdn', 'purge', 'vision/resnet@1.0.0', '--config', file, '--endpoint', server.url], { ...process.env, CF_API_TOKEN: 'cf-secret-token' });
    expect(result.code, result.stderr).toBe(0);
    expect(server.failures).toEqual([]);
    const bodies = server.calls.map((call) => JSON.parse(call.body) as Record<string, string[]>);
    expect(bodies).toEqual([
      { files: ['https://cdn.example.com/packages/vision/resnet/1.0.0/vision__resnet-1.0.0.torshpkg', 'https://cdn.example.com/packages/vision/resnet/1.0.0/vision__resnet-1.0.0.torshpkg.minisig', 'https://cdn.example.com/packages/vision/resnet/index.json'] },
      { tags: ['torsh-pkg-vision__resnet-v1.0.0'] },
    ]);
    expect(result.stdout).toContain('4 purged, 0 failed; 2 API calls (0 retries)');
    expect(result.stdout + result.stderr).not.toContain('cf-secret-token');

    const failing = await recorder(() => ({ status: 403, body: JSON.stringify({ success: false, errors: [{ code: 10000, message: 'Authentication error' }], messages: [], result: null }) }));
    const refused = await runCliProcess(['cdn', 'purge', '--tag', 'torsh', '--config', file, '--endpoint', failing.url, '--json'], { ...process.env, CF_API_TOKEN: 'cf-secret-token' });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ provider: 'cloudflare', results: [{ kind: 'tag', target: 'torsh', ok: false, error: '10000 Authentication error' }] });
  });

  it('chooses the best edge for a client IP or region and shows the score parts', async () => {
    const file = configFile(cloudflareConfig);
    const byIp = await runCliProcess(['cdn', 'best-url', 'vision/resnet@1.0.0', '--client-ip', '203.0.113.7', '--config', file, '--json']);
    expect(byIp.code, byIp.stderr).toBe(0);
    const answer = JSON.parse(byIp.stdout) as { url: string; regionSource: string; clientRegion: string; ranking: { edgeId: string; parts: Record<string, number | null> }[] };
    expect(answer).toMatchObject({ clientRegion: 'us-east-2', regionSource: 'cidr', url: 'https://iad.cdn.example.com/packages/vision/resnet/1.0.0/vision__resnet-1.0.0.torshpkg' });
    expect(answer.ranking.map((entry) => entry.edgeId)).toEqual(['iad', 'fra']);
    expect(Object.keys(answer.ranking[0]!.parts)).toEqual(['distance', 'latency', 'load', 'bandwidth']);
    const byRegion = await runCliProcess(['cdn', 'best-url', 'vision/resnet@1.0.0', '--region', 'eu-west-3', '--config', file]);
    expect(byRegion.stdout).toContain('best: https://fra.cdn.example.com/packages/vision/resnet/1.0.0/vision__resnet-1.0.0.torshpkg (edge fra)');
    expect(byRegion.stdout).toMatch(/fra +eu-central-1 +score [\d.]+ = distance [\d.]+ \+ latency - \+ load 0 \+ bandwidth 0/);
  });

  it('names the bad config field by its path and exits 2; prints a working VCL', async () => {
    const bad = configFile('cdn:\n  provider: fastly\n  origin: { storage: registry }\n  fastly: { service_id: abc, api_key: inline-key }\n');
    const result = await runCliProcess(['cdn', 'purge', '--tag', 'x', '--config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cdn.fastly.api_key');
    expect((await runCliProcess(['cdn', 'frobnicate'])).code).toBe(2);
    const vcl = await runCliProcess(['cdn', 'vcl', '--edge-id', 'edge-1', '--origin', '127.0.0.1:9000', '--origin-path-prefix', '/models-origin']);
    expect(vcl.code).toBe(0);
    expect(vcl.stdout).toContain('import xkey;');
    expect(vcl.stdout).toContain('set bereq.url = "/models-origin" + bereq.url;');
    expect((await runCliProcess(['cdn', 'vcl', '--edge-id', 'x";', '--origin', '127.0.0.1:9000'])).code).toBe(2);
  });
});
