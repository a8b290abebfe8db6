import type { Migration } from '../database/migration';

/**
 * Migration 16: the replication section kept by the registry (nodes, rules, factor, levels), as a
 * person writes it, so nodes and rules changed over HTTP survive a restart; and the commit markers
 * of versions that reached every replica (strong reads check them).
 */
export const replicationSettingsMigration: Migration = {
  version: 16,
  name: 'replication: stored section (nodes, rules), commit markers',
  up(db) {
    db.exec(`
      CREATE TABLE replication_section (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        section_json TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE replication_commits (
        package_name TEXT NOT NULL,
        version TEXT NOT NULL,
        digest TEXT NOT NULL,
        level TEXT NOT NULL,
        nodes_json TEXT NOT NULL,
        committed_at INTEGER NOT NULL,
        PRIMARY KEY (package_name, version)
      ) STRICT;
    `);
  },
};
