import { describe, expect, it } from 'vitest';
import {
  compareTimestamps,
  compareVectors,
  formatTimestamp,
  incrementVector,
  matchingRule,
  mergeVectors,
  parseTimestamp,
  placeReplicas,
  receiveClock,
  replicationSectionSchema,
  requiredAcks,
  tickClock,
  vectorCovers,
  type PlacementCandidate,
} from '../../../../shared/domain/replication';

const GiB = 1024 ** 3;
function node(id: string, region: string, overrides: Partial<PlacementCandidate> = {}): PlacementCandidate {
  return { id, region, priority: 1, capacityBytes: null, usedBytes: 0, enabled: true, ...overrides };
}

describe('replication section', () => {
  it('parses nodes with secret references, sizes and durations, and applies defaults', () => {
    const section = replicationSectionSchema.parse({
      replication_factor: 3,
      consistency: 'strong',
      nodes: [
        { id: 'us', region: 'us-east-1', endpoint: 's3://depot/eu?endpoint=http://127.0.0.1:4568', capacity: '10GiB', credentials: { access_key_id: '${AWS_KEY}', secret_access_key: 'file:/etc/depot/s3-secret' } },
        { id: 'peer', region: 'europe-west4', endpoint: 'https://depot.example.com', credentials: { api_key: '${PEER_KEY}' } },
      ],
      rules: [{ name: 'vision', packages: 'vision/*', labels: ['prod'], consistency: 'quorum' }],
      hints: { max_backoff: '20s' },
    });
    expect(section.nodes[0]?.capacity).toBe(10 * GiB);
    expect(section.nodes[1]?.priority).toBe(1);
    expect(section.hints.max_backoff).toBe(20_000);
    expect(section.rules[0]).toMatchObject({ trigger: 'on-publish', direction: 'push', visibility: 'any' });
  });

  it('refuses inline secrets, duplicate ids, credentials in URLs and hint backoff over 30 s', () => {
    const base = { id: 'a', region: 'us-east-1', endpoint: 'file:///srv/a' };
    expect(replicationSectionSchema.safeParse({ nodes: [{ ...base, credentials: { secret_access_key: 'hunter2' } }] }).success).toBe(false);
    expect(replicationSectionSchema.safeParse({ nodes: [base, base] }).success).toBe(false);
    expect(replicationSectionSchema.safeParse({ nodes: [{ ...base, endpoint: 'https://user:pw@example.com' }] }).success).toBe(false);
    expect(replicationSectionSchema.safeParse({ nodes: [{ ...base, endpoint: 'ftp://example.com' }] }).success).toBe(false);
    expect(replicationSectionSchema.safeParse({ hints: { max_backoff: '31s' } }).success).toBe(false);
    expect(replicationSectionSchema.safeParse({ conflict_policy: 'primary-region' }).success).toBe(false);
    expect(replicationSectionSchema.safeParse({ nodes: [{ ...base, region: 'atlantis-1' }] }).success).toBe(false);
    expect(replicationSectionSchema.safeParse({ nodes: [{ ...base, region: '52.37,4.90' }] }).success).toBe(true);
  });

  it('counts acknowledgements per level', () => {
    expect([1, 2, 3, 4, 5].map((rf) => requiredAcks('quorum', rf))).toEqual([1, 2, 2, 3, 3]);
    expect(requiredAcks('strong', 3)).toBe(3);
    expect(requiredAcks('eventual', 3)).toBe(0);
    expect(requiredAcks('causal', 3)).toBe(0);
  });

  it('selects rules by name glob, visibility and labels', () => {
    const rules = replicationSectionSchema.parse({
      rules: [
        { name: 'private-vision', packages: 'vision/*', visibility: 'private' },
        { name: 'prod', packages: '*', labels: ['prod'] },
      ],
    }).rules;
    expect(matchingRule(rules, { name: 'vision/resnet', visibility: 'private', labels: [] })?.name).toBe('private-vision');
    expect(matchingRule(rules, { name: 'vision/resnet', visibility: 'public', labels: ['prod'] })?.name).toBe('prod');
    expect(matchingRule(rules, { name: 'visionary', visibility: 'private', labels: [] })).toBeNull();
  });
});

describe('placement', () => {
  it('takes distinct regions before a second node in one region, then priority, then free capacity', () => {
    const nodes = [
      node('us-a', 'us-east-1', { priority: 0 }),
      node('us-b', 'us-east-1', { priority: 0 }),
      node('eu-small', 'europe-west4', { capacityBytes: 2 * GiB, usedBytes: GiB }),
      node('eu-big', 'europe-west4', { capacityBytes: 10 * GiB }),
      node('ap', 'asia-east1', { priority: 5 }),
    ];
    expect(placeReplicas(nodes, 3, 1000).nodes).toEqual(['us-a', 'eu-big', 'ap']);
    expect(placeReplicas(nodes, 4, 1000).nodes).toEqual(['us-a', 'eu-big', 'ap', 'us-b']);
  });

  it('skips a full node with a reason and reports a shortfall instead of overfilling', () => {
    const nodes = [node('a', 'r1', { capacityBytes: 100, usedBytes: 60 }), node('b', 'r2'), node('c', 'r3', { enabled: false })];
    const result = placeReplicas(nodes, 3, 50);
    expect(result.nodes).toEqual(['b']);
    expect(result.skipped).toEqual([
      { id: 'a', reason: 'full' },
      { id: 'c', reason: 'disabled' },
    ]);
    expect(result.shortBy).toBe(2);
    expect(placeReplicas(nodes, 2, 40).nodes).toEqual(['b', 'a']);
  });
});

describe('version vectors', () => {
  it('orders, merges and detects concurrent writes', () => {
    const a = incrementVector({}, 'eu');
    const b = incrementVector(a, 'eu');
    const c = incrementVector(a, 'us');
    expect(compareVectors(a, b)).toBe('before');
    expect(compareVectors(b, a)).toBe('after');
    expect(compareVectors(b, { ...b })).toBe('equal');
    expect(compareVectors(b, c)).toBe('concurrent');
    expect(mergeVectors(b, c)).toEqual({ eu: 2, us: 1 });
    expect(vectorCovers(b, a)).toBe(true);
    expect(vectorCovers(a, b)).toBe(false);
    expect(vectorCovers(b, c)).toBe(false);
  });
});

describe('hybrid logical clock', () => {
  it('never goes backwards, follows a remote clock ahead of it, and sorts as text', () => {
    const start = { wallMs: 1_000, logical: 0, node: 'eu' };
    const sameMs = tickClock(start, 1_000);
    expect(sameMs).toEqual({ wallMs: 1_000, logical: 1, node: 'eu' });
    const clockWentBack = tickClock(sameMs, 500);
    expect(compareTimestamps(clockWentBack, sameMs)).toBeGreaterThan(0);
    const received = receiveClock(clockWentBack, { wallMs: 5_000, logical: 3, node: 'us' }, 900);
    expect(received).toEqual({ wallMs: 5_000, logical: 4, node: 'eu' });
    expect(parseTimestamp(formatTimestamp(received))).toEqual(received);
    const stamps = [received, start, sameMs, clockWentBack];
    expect([...stamps].sort(compareTimestamps).map(formatTimestamp)).toEqual(stamps.map(formatTimestamp).sort());
  });
});
