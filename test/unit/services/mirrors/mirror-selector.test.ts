import { describe, expect, it } from 'vitest';
import { mirrorConfigSchema, mirrorsSectionSchema, type MirrorConfigInput } from '../../../../shared/domain/mirrors';
import { cloudRegions, regionDistanceKm, resolveClientRegion } from '../../../../shared/domain/regions';
import { rankMirrors, seededRandom, type MirrorCandidate } from '../../../../electron/services/mirrors/mirror-selector';

function mirror(input: MirrorConfigInput, extra: Omit<MirrorCandidate, 'config'> = {}): MirrorCandidate {
  return { config: mirrorConfigSchema.parse(input), ...extra };
}

// One fixed table for every strategy: three usable mirrors, one unhealthy, one disabled, one lacking the version.
const table: MirrorCandidate[] = [
  mirror({ id: 'us', url: 'http://us.example', region: 'us-east-1', priority: 2, weight: 100, capacity: 10 }, { status: 'healthy', latencyMs: 80, activeTransfers: 5 }),
  mirror({ id: 'eu', url: 'http://eu.example', region: 'eu-central-1', priority: 1, weight: 300, capacity: 20 }, { status: 'healthy', latencyMs: 25, activeTransfers: 2 }),
  mirror({ id: 'ap', url: 'http://ap.example', region: 'ap-northeast-1', priority: 1, weight: 100, capacity: 4 }, { status: 'degraded', latencyMs: 10, activeTransfers: 0 }),
  mirror({ id: 'down', url: 'http://down.example', region: 'eu-west-1', priority: 0 }, { status: 'unhealthy', latencyMs: 1 }),
  mirror({ id: 'off', url: 'http://off.example', region: 'eu-west-2', priority: 0, enabled: false }),
  mirror({ id: 'stale', url: 'http://stale.example', region: 'eu-west-3', priority: 0 }, { status: 'healthy', hasVersion: false }),
];

const order = (entries: ReturnType<typeof rankMirrors>): string[] => entries.filter((entry) => entry.eligible).map((entry) => entry.id);

describe('regions', () => {
  it('knows every provider, measures great circles and reads lat,lon', () => {
    expect(cloudRegions.filter((region) => region.provider === 'aws').length).toBeGreaterThanOrEqual(30);
    expect(cloudRegions.filter((region) => region.provider === 'gcp').length).toBeGreaterThanOrEqual(40);
    expect(cloudRegions.filter((region) => region.provider === 'azure').length).toBeGreaterThanOrEqual(50);
    expect(new Set(cloudRegions.map((region) => region.id)).size).toBe(cloudRegions.length);
    // Frankfurt–N. Virginia is about 6,500 km; Frankfurt to itself is 0.
    expect(regionDistanceKm('eu-central-1', 'us-east-1')).toBeGreaterThan(6300);
    expect(regionDistanceKm('eu-central-1', 'us-east-1')).toBeLessThan(6700);
    expect(regionDistanceKm('eu-central-1', 'germanywestcentral')).toBe(0);
    expect(regionDistanceKm('0,0', '0,90')).toBeCloseTo(10_007.5, 0);
    expect(regionDistanceKm('mars-1', 'us-east-1')).toBeNull();
    expect(regionDistanceKm('91,0', 'us-east-1')).toBeNull();
  });

  it('takes the client region from the flag, then the environment, then the config', () => {
    expect(resolveClientRegion({ flag: 'eu-west-1', env: 'us-east-1', config: 'ap-south-1' })).toBe('eu-west-1');
    expect(resolveClientRegion({ flag: '', env: 'us-east-1', config: 'ap-south-1' })).toBe('us-east-1');
    expect(resolveClientRegion({ config: 'ap-south-1' })).toBe('ap-south-1');
    expect(resolveClientRegion({})).toBeNull();
  });

  it('validates regions and client_region in the mirrors section', () => {
    expect(mirrorsSectionSchema.parse({ client_region: '48.85,2.35' }).client_region).toBe('48.85,2.35');
    const bad = mirrorsSectionSchema.safeParse({ client_region: 'moon-1', list: [{ id: 'a', url: 'http://a', region: 'atlantis' }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['client_region', 'list.0.region']);
  });
});

describe('rankMirrors', () => {
  it('skips unhealthy, disabled and version-less mirrors with a reason', () => {
    const ranked = rankMirrors(table, { strategy: 'priority', random: seededRandom(1) });
    const skipped = Object.fromEntries(ranked.filter((entry) => !entry.eligible).map((entry) => [entry.id, entry.reason]));
    expect(skipped).toEqual({ down: 'unhealthy', off: 'disabled', stale: 'its index lacks this version' });
    expect(ranked.filter((entry) => !entry.eligible).every((entry) => entry.place === null)).toBe(true);
  });

  it('geographic: nearest first by great-circle distance from the client region; degraded after healthy', () => {
    const fromParis = rankMirrors(table, { strategy: 'geographic', clientRegion: 'eu-west-3' });
    expect(order(fromParis)).toEqual(['eu', 'us', 'ap']);
    expect(fromParis[0]?.reason).toMatch(/^\d[\d,]* km from eu-west-3 \(eu-central-1\)$/);
    expect(fromParis[2]?.reason).toMatch(/degraded/);
    const fromVirginia = rankMirrors(table.slice(0, 2), { strategy: 'geographic', clientRegion: 'us-east4' });
    expect(order(fromVirginia)).toEqual(['us', 'eu']);
    // A custom lat,lon next to Tokyo, with every mirror healthy.
    const healthy = table.slice(0, 3).map((candidate) => ({ ...candidate, status: 'healthy' as const }));
    expect(order(rankMirrors(healthy, { strategy: 'geographic', clientRegion: '35.6,139.7' }))).toEqual(['ap', 'eu', 'us']);
  });

  it('geographic without a client region falls back to priority and says so', () => {
    const ranked = rankMirrors(table, { strategy: 'geographic', random: seededRandom(3) });
    expect(ranked[0]?.reason).toMatch(/^no client region .*: by priority 1/);
    expect(order(ranked).at(-1)).toBe('ap');
  });

  it('priority: lowest number first, ties broken by weight (seeded)', () => {
    const healthy = table.slice(0, 3).map((candidate) => ({ ...candidate, status: 'healthy' as const }));
    const counts = { eu: 0, ap: 0 };
    for (let seed = 0; seed < 400; seed += 1) {
      const ranked = order(rankMirrors(healthy, { strategy: 'priority', random: seededRandom(seed) }));
      expect(ranked[2]).toBe('us');
      counts[ranked[0] as 'eu' | 'ap'] += 1;
    }
    // eu weighs 300, ap 100: eu leads about three times in four.
    expect(counts.eu / 400).toBeGreaterThan(0.68);
    expect(counts.eu / 400).toBeLessThan(0.82);
    expect(order(rankMirrors(healthy, { strategy: 'priority', random: seededRandom(7) }))).toEqual(order(rankMirrors(healthy, { strategy: 'priority', random: seededRandom(7) })));
  });

  it('weighted: random by weight, repeatable with a seed', () => {
    const healthy = table.slice(0, 3).map((candidate) => ({ ...candidate, status: 'healthy' as const }));
    const first = { us: 0, eu: 0, ap: 0 };
    for (let seed = 0; seed < 1000; seed += 1) {
      const leader = order(rankMirrors(healthy, { strategy: 'weighted', random: seededRandom(seed) }))[0] as keyof typeof first;
      first[leader] += 1;
    }
    // Weights 100 / 300 / 100: eu first 60 % of the time, the others 20 % each.
    expect(first.eu).toBeGreaterThan(540);
    expect(first.eu).toBeLessThan(660);
    expect(first.us).toBeGreaterThan(150);
    expect(first.ap).toBeGreaterThan(150);
    expect(rankMirrors(healthy, { strategy: 'weighted', random: seededRandom(42) })).toEqual(rankMirrors(healthy, { strategy: 'weighted', random: seededRandom(42) }));
  });

  it('least-loaded: active transfers divided by capacity', () => {
    const ranked = rankMirrors(table, { strategy: 'least-loaded' });
    // us 5/10 = 50 %, eu 2/20 = 10 %, ap 0/4 = 0 % but degraded.
    expect(order(ranked)).toEqual(['eu', 'us', 'ap']);
    expect(ranked[0]?.reason).toBe('load 2/20 (10 %)');
    expect(ranked[0]?.score).toBeCloseTo(0.1);
  });

  it('lowest-latency: EWMA latency, unmeasured last', () => {
    const withUnmeasured = [...table.slice(0, 2), mirror({ id: 'new', url: 'http://new.example' }, { status: 'unknown' })];
    const ranked = rankMirrors(withUnmeasured, { strategy: 'lowest-latency' });
    expect(order(ranked)).toEqual(['eu', 'us', 'new']);
    expect(ranked[2]?.reason).toBe('latency not measured yet');
  });

  it('round-robin: rotates through the eligible mirrors turn by turn', () => {
    const turns = [0, 1, 2, 3].map((turn) => order(rankMirrors(table.slice(0, 2), { strategy: 'round-robin', turn }))[0]);
    expect(turns).toEqual(['eu', 'us', 'eu', 'us']);
  });

  it('puts the registry origin last, eligible only with auto_fallback', () => {
    const on = rankMirrors(table, { strategy: 'priority', origin: { url: 'http://registry.example' }, autoFallback: true, random: seededRandom(1) });
    expect(order(on).at(-1)).toBe('origin');
    expect(on.find((entry) => entry.id === 'origin')?.place).toBe(4);
    const off = rankMirrors(table, { strategy: 'priority', origin: { url: 'http://registry.example' }, autoFallback: false, random: seededRandom(1) });
    expect(off.find((entry) => entry.id === 'origin')).toMatchObject({ eligible: false, place: null });
  });
});
