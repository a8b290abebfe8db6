import type { Migration } from '../database/migration';

/**
 * Migration 15: CDN statistics — per minute, per edge and per package version: answers from the
 * edge's cache (hits), from the origin (misses), unknown, and the bytes of each side.
 */
export const cdnStatsMigration: Migration = {
  version: 15,
  name: 'cdn: per-minute hit/miss and edge/origin bytes by edge and package',
  up(db) {
    db.exec(`
      CREATE TABLE cdn_stats (
        bucket_start TEXT NOT NULL,
        edge_id TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0,
        misses INTEGER NOT NULL DEFAULT 0,
        unknown INTEGER NOT NULL DEFAULT 0,
        edge_bytes INTEGER NOT NULL DEFAULT 0,
        origin_bytes INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (bucket_start, edge_id, package, version)
      ) STRICT;
      CREATE INDEX cdn_stats_edge ON cdn_stats (edge_id, bucket_start);
      CREATE INDEX cdn_stats_package ON cdn_stats (package, version, bucket_start);
    `);
  },
};
