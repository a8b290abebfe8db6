import type { Migration } from '../database/migration';

/**
 * Migration 11: what hardening needs to remember.
 * - `api_keys.from_admin_env`: the key was made from a value of `TORSH_DEPOT_ADMIN_KEY`, so a start-up
 *   with another value revokes it (rotating the variable must retire the old key). Keys made that way
 *   before this migration carry the variable's name as their label and belong to the `admin` user.
 * - `package_signatures.uploader_id`: the user who uploaded a signature; only they (or a holder of
 *   ManageSecurity) may replace it. Older rows have none: only ManageSecurity may replace those.
 */
export const adminKeyMigration: Migration = {
  version: 11,
  name: 'access: keys from TORSH_DEPOT_ADMIN_KEY, signature uploaders',
  up(db) {
    db.exec(`
      ALTER TABLE api_keys ADD COLUMN from_admin_env INTEGER NOT NULL DEFAULT 0 CHECK (from_admin_env IN (0, 1));
      UPDATE api_keys SET from_admin_env = 1 WHERE label = 'TORSH_DEPOT_ADMIN_KEY' AND user_id = 'admin';
      ALTER TABLE package_signatures ADD COLUMN uploader_id TEXT;
    `);
  },
};
