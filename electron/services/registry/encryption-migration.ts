import type { Migration } from '../database/migration';

/**
 * Migration 10: encrypted versions. `encryption_json` (`{"algorithm","unlock"}`, NULL when plain) on each
 * version, and on the package's summary for its newest version, so lists and search can show a lock
 * without reading versions.
 */
export const encryptionMigration: Migration = {
  version: 10,
  name: 'registry: encrypted versions',
  up(db) {
    db.exec(`
      ALTER TABLE package_versions ADD COLUMN encryption_json TEXT CHECK (encryption_json IS NULL OR json_valid(encryption_json));
      ALTER TABLE packages ADD COLUMN latest_encryption_json TEXT;
    `);
  },
};
