import type { Migration } from '../database/migration';

/**
 * Migration 18: the CDN section the host runs with (from `depot.yaml`'s `cdn:` or the CDN screen),
 * kept as the validated JSON of its schema; one row, like the mirrors' settings.
 */
export const cdnConfigMigration: Migration = {
  version: 18,
  name: 'cdn: the configured section (provider, origin, edges, policies, routing)',
  up(db) {
    db.exec(`
      CREATE TABLE cdn_config (
        key TEXT PRIMARY KEY,
        value_json TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
    `);
  },
};
