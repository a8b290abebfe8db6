import type { Database } from 'better-sqlite3';
import type { CacheOutcome, CdnStats, CdnStatsTotals } from '../../../shared/domain/cdn';

export interface CdnTransferRecord {
  at: Date;
  edgeId: string;
  name: string;
  version: string;
  outcome: CacheOutcome;
  bytes: number;
}

/** CDN statistics; async so a PostgreSQL dialect can stand in (the SQLite one answers at once). */
export interface CdnStatsRepository {
  record(transfer: CdnTransferRecord): Promise<void>;
  query(since: Date, until: Date, bucketSeconds: number): Promise<CdnStats>;
}

interface TotalsRow {
  hits: number;
  misses: number;
  unknown: number;
  edge_bytes: number;
  origin_bytes: number;
}

const bucketMs = 60_000;
const sums = 'COALESCE(SUM(hits),0) AS hits, COALESCE(SUM(misses),0) AS misses, COALESCE(SUM(unknown),0) AS unknown, COALESCE(SUM(edge_bytes),0) AS edge_bytes, COALESCE(SUM(origin_bytes),0) AS origin_bytes';

function totals(row: TotalsRow): CdnStatsTotals {
  const decided = row.hits + row.misses;
  return { hits: row.hits, misses: row.misses, unknown: row.unknown, edgeBytes: row.edge_bytes, originBytes: row.origin_bytes, hitRate: decided === 0 ? null : row.hits / decided };
}

/**
 * All SQL of CDN statistics. A hit's bytes came from the edge alone; a miss's bytes came from the
 * origin (through the edge); an unknown answer counts as edge bytes it cannot attribute further.
 */
export class SqliteCdnStatsRepository implements CdnStatsRepository {
  private readonly upsert;

  constructor(private readonly db: Database) {
    this.upsert = db.prepare(`INSERT INTO cdn_stats (bucket_start, edge_id, package, version, hits, misses, unknown, edge_bytes, origin_bytes)
      VALUES (@bucket, @edge, @package, @version, @hits, @misses, @unknown, @edgeBytes, @originBytes)
      ON CONFLICT (bucket_start, edge_id, package, version) DO UPDATE SET
        hits = hits + excluded.hits, misses = misses + excluded.misses, unknown = unknown + excluded.unknown,
        edge_bytes = edge_bytes + excluded.edge_bytes, origin_bytes = origin_bytes + excluded.origin_bytes`);
  }

  record(transfer: CdnTransferRecord): Promise<void> {
    const bucket = new Date(Math.floor(transfer.at.getTime() / bucketMs) * bucketMs).toISOString();
    const miss = transfer.outcome === 'miss';
    this.upsert.run({
      bucket,
      edge: transfer.edgeId,
      package: transfer.name,
      version: transfer.version,
      hits: transfer.outcome === 'hit' ? 1 : 0,
      misses: miss ? 1 : 0,
      unknown: transfer.outcome === 'unknown' ? 1 : 0,
      edgeBytes: miss ? 0 : transfer.bytes,
      originBytes: miss ? transfer.bytes : 0,
    });
    return Promise.resolve();
  }

  query(since: Date, until: Date, bucketSeconds: number): Promise<CdnStats> {
    // A minute that began before `since` still holds transfers from within the range.
    const range = { since: new Date(Math.floor(since.getTime() / bucketMs) * bucketMs).toISOString(), until: until.toISOString() };
    const where = 'WHERE bucket_start >= @since AND bucket_start < @until';
    const all = this.db.prepare(`SELECT ${sums} FROM cdn_stats ${where}`).get(range) as TotalsRow;
    const byEdge = this.db.prepare(`SELECT edge_id, ${sums} FROM cdn_stats ${where} GROUP BY edge_id ORDER BY edge_id`).all(range) as (TotalsRow & { edge_id: string })[];
    const byPackage = this.db.prepare(`SELECT package, version, ${sums} FROM cdn_stats ${where} GROUP BY package, version ORDER BY package, version`).all(range) as (TotalsRow & { package: string; version: string })[];
    const step = Math.max(60, bucketSeconds);
    const series = this.db
      .prepare(`SELECT (CAST(strftime('%s', bucket_start) AS INTEGER) / CAST(@step AS INTEGER)) * CAST(@step AS INTEGER) AS slot, ${sums} FROM cdn_stats ${where} GROUP BY slot ORDER BY slot`)
      .all({ ...range, step }) as (TotalsRow & { slot: number })[];
    return Promise.resolve({
      ...range,
      bucketSeconds: step,
      totals: totals(all),
      byEdge: byEdge.map((row) => ({ edgeId: row.edge_id, ...totals(row) })),
      byPackage: byPackage.map((row) => ({ name: row.package, version: row.version, ...totals(row) })),
      series: series.map((row) => ({ at: new Date(row.slot * 1000).toISOString(), ...totals(row) })),
    });
  }
}
