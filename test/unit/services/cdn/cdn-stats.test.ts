import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations } from '../../../../electron/services/database/migrations';
import { openDatabase } from '../../../../electron/services/database/open-database';
import { SqliteCdnStatsRepository } from '../../../../electron/services/cdn/cdn-stats-repository';
import { cacheOutcomeOf } from '../../../../electron/services/cdn/cache-outcome';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

describe('cache outcome from edge headers', () => {
  it.each([
    [{ 'x-cache': 'HIT' }, 'hit'],
    [{ 'x-cache': 'MISS' }, 'miss'],
    [{ 'x-cache': 'Hit from cloudfront' }, 'hit'],
    [{ 'x-cache': 'Miss from cloudfront' }, 'miss'],
    [{ 'x-cache': 'HIT, MISS', 'x-served-by': 'cache-iad-1, cache-fra-2' }, 'miss'],
    [{ 'x-cache-hits': '0, 3' }, 'hit'],
    [{ 'cf-cache-status': 'REVALIDATED' }, 'hit'],
    [{ 'cf-cache-status': 'EXPIRED' }, 'miss'],
    [{ 'cf-cache-status': 'DYNAMIC' }, 'miss'],
    [{ age: '37' }, 'hit'],
    [{ age: '0' }, 'unknown'],
    [{}, 'unknown'],
  ] as const)('%o → %s', (headers, outcome) => {
    expect(cacheOutcomeOf(headers)).toBe(outcome);
    expect(cacheOutcomeOf(new Headers(headers))).toBe(outcome);
  });
});

describe('migration 15 and CDN statistics', () => {
  it('upgrades a database from before migration 15 and sums hits, misses and bytes per edge, package and time', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const file = path.join(temp.dir, 'old.sqlite');
    openDatabase(file, migrations.filter((migration) => migration.version < 15)).close();
    const db = openDatabase(file, migrations);
    cleanups.push(() => db.close());
    expect((db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number }).version).toBeGreaterThanOrEqual(15);
    const stats = new SqliteCdnStatsRepository(db);
    const at = (minute: number): Date => new Date(Date.UTC(2026, 11, 2, 13, minute, 30));
    await stats.record({ at: at(0), edgeId: 'edge-a', name: 'resnet', version: '1.0.0', outcome: 'miss', bytes: 1000 });
    await stats.record({ at: at(0), edgeId: 'edge-a', name: 'resnet', version: '1.0.0', outcome: 'hit', bytes: 1000 });
    await stats.record({ at: at(1), edgeId: 'edge-a', name: 'resnet', version: '1.0.0', outcome: 'hit', bytes: 1000 });
    await stats.record({ at: at(6), edgeId: 'edge-b', name: 'bert', version: '2.0.0', outcome: 'hit', bytes: 500 });
    await stats.record({ at: at(6), edgeId: 'edge-b', name: 'bert', version: '2.0.0', outcome: 'unknown', bytes: 10 });
    const report = await stats.query(at(0), at(10), 300);
    expect(report.totals).toEqual({ hits: 3, misses: 1, unknown: 1, edgeBytes: 2510, originBytes: 1000, hitRate: 0.75 });
    expect(report.byEdge.map((edge) => [edge.edgeId, edge.hits, edge.misses, edge.hitRate])).toEqual([
      ['edge-a', 2, 1, 2 / 3],
      ['edge-b', 1, 0, 1],
    ]);
    expect(report.byPackage.map((entry) => `${entry.name}@${entry.version}:${entry.edgeBytes}/${entry.originBytes}`)).toEqual(['bert@2.0.0:510/0', 'resnet@1.0.0:2000/1000']);
    expect(report.series.map((slot) => [slot.at, slot.hits, slot.misses])).toEqual([
      ['2026-12-02T13:00:00.000Z', 2, 1],
      ['2026-12-02T13:05:00.000Z', 1, 0],
    ]);
    expect((await stats.query(at(7), at(10), 60)).totals.hitRate).toBeNull();
  });
});
