import { describe, expect, it } from 'vitest';
import { edgeConfigSchema, cdnSectionSchema } from '../../../../shared/domain/cdn';
import { rankEdges, type EdgeCandidate } from '../../../../electron/services/cdn/edge-selector';
import { ClientRegionResolver } from '../../../../electron/services/cdn/client-region';
import { decideRoute } from '../../../../electron/services/cdn/route-decision';

const edge = (id: string, region: string, extra: Partial<EdgeCandidate> = {}, capacity = 10): EdgeCandidate => ({
  config: edgeConfigSchema.parse({ id, region, endpoint: `http://${id}.example.com`, capacity_gbps: capacity }),
  status: 'healthy',
  latencyMs: 20,
  load: 0.1,
  ...extra,
});

const table = [edge('fra', 'eu-central-1'), edge('iad', 'us-east-1'), edge('sin', 'ap-southeast-1'), edge('dub', 'eu-west-1', { status: 'unhealthy' })];
const resolver = new ClientRegionResolver([
  { cidr: '203.0.113.0/24', region: 'ap-southeast-1' },
  { cidr: '198.51.100.0/24', region: 'us-east-1' },
  { cidr: '198.51.100.128/25', region: 'eu-west-2' },
  { cidr: '2001:db8::/32', region: 'eu-central-1' },
]);

describe('best edge for a client', () => {
  it.each([
    ['203.0.113.7', 'sin', 'ap-southeast-1'],
    ['198.51.100.9', 'iad', 'us-east-1'],
    // The more specific block wins: London is nearest Frankfurt once Dublin is down.
    ['198.51.100.200', 'fra', 'eu-west-2'],
    ['2001:db8::1', 'fra', 'eu-central-1'],
    ['::ffff:203.0.113.7', 'sin', 'ap-southeast-1'],
  ])('%s → %s (%s)', (ip, expected, region) => {
    const client = resolver.resolve({ clientIp: ip });
    expect(client).toEqual({ region, source: 'cidr' });
    const ranking = rankEdges(table, client.region);
    expect(ranking[0]?.edgeId).toBe(expected);
    expect(ranking.find((entry) => entry.edgeId === 'dub')).toMatchObject({ eligible: false, reason: 'unhealthy', score: null });
  });

  it('shows the parts of the score, and load, latency and bandwidth can outweigh distance', () => {
    const busy = rankEdges([edge('fra', 'eu-central-1', { load: 0.95 }), edge('ams', 'westeurope', { load: 0.05, latencyMs: 25 })], 'eu-central-1');
    expect(busy[0]?.edgeId).toBe('ams');
    const fra = busy.find((entry) => entry.edgeId === 'fra')!;
    expect(fra.parts.distance).toBe(0);
    expect(fra.parts.load).toBe(4.75);
    expect(fra.parts.bandwidth).toBeCloseTo(Math.log2(10 / 0.5), 2);
    expect(fra.score).toBeCloseTo(0 + 0.2 + 4.75 + Math.log2(20), 2);
    expect(rankEdges([edge('full', 'us-east-1', { load: 1 })], 'us-east-1')[0]).toMatchObject({ eligible: false, reason: 'at capacity' });
  });

  it('falls back to --region and to unknown, and refuses a malformed IP', () => {
    expect(resolver.resolve({ region: 'eu-west-1', clientIp: '203.0.113.7' })).toEqual({ region: 'eu-west-1', source: 'region' });
    expect(resolver.resolve({ clientIp: '192.0.2.1' })).toEqual({ region: null, source: 'unknown' });
    expect(new ClientRegionResolver([], () => '48.1,11.6').resolve({ clientIp: '192.0.2.1' })).toEqual({ region: '48.1,11.6', source: 'maxmind' });
    expect(() => resolver.resolve({ clientIp: 'not-an-ip' })).toThrow(/not an IP/);
    const unknown = rankEdges(table, null);
    expect(unknown.every((entry) => entry.parts.distance === null)).toBe(true);
  });
});

describe('hybrid routing', () => {
  const section = cdnSectionSchema.parse({ provider: 'varnish', origin: { storage: 's3://bucket' }, edges: [{ id: 'fra', region: 'eu-central-1', endpoint: 'http://fra.example.com' }] });
  const ranking = rankEdges([edge('fra', 'eu-central-1')], 'eu-central-1');
  const base = { section, name: 'vision/resnet', version: '1.0.0', ranking, registryUrl: 'https://registry.example.com/api/v1/packages/vision/resnet/1.0.0/download' };

  it('sends big packages to the best edge and small ones to the registry, saying why', () => {
    const big = decideRoute({ ...base, size: 200_000_000 });
    expect(big.kind).toBe('cdn');
    expect(big.url).toBe('http://fra.example.com/packages/vision/resnet/1.0.0/vision__resnet-1.0.0.torshpkg');
    expect(big.header).toMatch(/^cdn; reason="200000000 bytes is at least min_size 100000000; edge fra/);
    const small = decideRoute({ ...base, size: 5_000_000 });
    expect(small).toMatchObject({ kind: 'registry', url: base.registryUrl });
    expect(small.header).toBe('registry; reason="5000000 bytes is under min_size 100000000"');
  });

  it('falls back to a mirror, then the registry, when no edge is eligible', () => {
    const down = rankEdges([edge('fra', 'eu-central-1', { status: 'unhealthy' })], 'eu-central-1');
    expect(decideRoute({ ...base, size: 200_000_000, ranking: down, mirrorUrl: 'https://mirror.example.com/x' })).toMatchObject({ kind: 'mirror', url: 'https://mirror.example.com/x' });
    expect(decideRoute({ ...base, size: 200_000_000, ranking: down })).toMatchObject({ kind: 'registry' });
    const registryOrigin = cdnSectionSchema.parse({ ...section, origin: { storage: 'registry' }, routing: { mode: 'cdn' } });
    expect(decideRoute({ ...base, section: registryOrigin, size: 10 }).url).toBe('http://fra.example.com/api/v1/packages/vision/resnet/1.0.0/download');
  });
});
