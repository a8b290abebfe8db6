import type { Migration } from '../database/migration';

/**
 * Migration 12: mirrors, the shared probe (health) tables, and the registry's change serial.
 *
 * - `mirrors`: the configured mirror set (one row per mirror, its `mirrors.list` entry as JSON, in order);
 *   `mirror_settings`: the rest of the `mirrors:` section; `mirror_stats`: downloads, bytes, failures, failovers.
 * - `probe_state`/`probe_history`: what the one health machinery knows of every probed target (mirrors now,
 *   CDN edges and replication nodes later), keyed by (kind, target id); history is bounded by the prober.
 * - `registry_changes`: one row per publish, yank/unyank and signature; its rowid is the change serial a
 *   mirror's `index.json` carries, so staleness is "changes behind" and "seconds since the first one missed".
 *   Triggers keep it, so no write path can forget to raise it.
 */
export const mirrorsMigration: Migration = {
  version: 12,
  name: 'mirrors: mirror set, probe health and history, registry change serial',
  up(db) {
    db.exec(`
      CREATE TABLE mirrors (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        config_json TEXT NOT NULL CHECK (json_valid(config_json)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE mirror_settings (
        key TEXT PRIMARY KEY,
        value_json TEXT NOT NULL CHECK (json_valid(value_json))
      ) STRICT;
      CREATE TABLE mirror_stats (
        mirror_id TEXT PRIMARY KEY REFERENCES mirrors (id) ON DELETE CASCADE,
        downloads INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        failovers INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE TABLE probe_state (
        kind TEXT NOT NULL,
        target_id TEXT NOT NULL,
        state_json TEXT NOT NULL CHECK (json_valid(state_json)),
        PRIMARY KEY (kind, target_id)
      ) STRICT;
      CREATE TABLE probe_history (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        target_id TEXT NOT NULL,
        at TEXT NOT NULL,
        ok INTEGER NOT NULL,
        status TEXT NOT NULL,
        latency_ms REAL,
        error TEXT
      ) STRICT;
      CREATE INDEX probe_history_target ON probe_history (kind, target_id, id);
      CREATE TABLE registry_changes (
        serial INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        change TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL
      );
      CREATE TRIGGER registry_changes_publish AFTER INSERT ON package_versions BEGIN
        INSERT INTO registry_changes (at, change, name, version) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'publish', NEW.package_name, NEW.version);
      END;
      CREATE TRIGGER registry_changes_yank AFTER UPDATE OF yanked ON package_versions WHEN OLD.yanked IS NOT NEW.yanked BEGIN
        INSERT INTO registry_changes (at, change, name, version) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), CASE WHEN NEW.yanked THEN 'yank' ELSE 'unyank' END, NEW.package_name, NEW.version);
      END;
      CREATE TRIGGER registry_changes_delete AFTER DELETE ON package_versions BEGIN
        INSERT INTO registry_changes (at, change, name, version) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'delete', OLD.package_name, OLD.version);
      END;
      CREATE TRIGGER registry_changes_sign AFTER INSERT ON package_signatures BEGIN
        INSERT INTO registry_changes (at, change, name, version)
          SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'signature', package_name, version FROM package_versions WHERE id = NEW.version_id;
      END;
      CREATE TRIGGER registry_changes_unsign AFTER DELETE ON package_signatures BEGIN
        INSERT INTO registry_changes (at, change, name, version)
          SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'signature', package_name, version FROM package_versions WHERE id = OLD.version_id;
      END;
    `);
    // Versions published before this migration count as changes 1…N, so an existing registry starts ahead of an empty mirror.
    db.exec(`INSERT INTO registry_changes (at, change, name, version)
      SELECT published_at, 'publish', package_name, version FROM package_versions ORDER BY id`);
  },
};
