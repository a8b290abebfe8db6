import type { Migration } from '../database/migration';

/**
 * Migration 13: the replication queue (one row per change and node: a version's `put`, then its
 * `meta` changes in causal order), each package's version vector and hybrid clock, and conflicts.
 */
export const replicationMigration: Migration = {
  version: 13,
  name: 'replication: queue, version vectors, conflicts',
  up(db) {
    db.exec(`
      CREATE TABLE replication_tasks (
        id INTEGER PRIMARY KEY,
        package_name TEXT NOT NULL,
        version TEXT NOT NULL,
        node_id TEXT NOT NULL,
        operation TEXT NOT NULL CHECK (operation IN ('put', 'meta')),
        -- 0 for the put; the package's change counter for later changes: a node applies them in this order.
        change_seq INTEGER NOT NULL,
        digest TEXT NOT NULL,
        size INTEGER NOT NULL,
        record_json TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        confirmed_at INTEGER,
        UNIQUE (package_name, version, node_id, operation, change_seq)
      ) STRICT;
      CREATE INDEX replication_tasks_due ON replication_tasks (state, next_attempt_at);
      CREATE INDEX replication_tasks_node ON replication_tasks (node_id, state);
      CREATE INDEX replication_tasks_confirmed ON replication_tasks (node_id, confirmed_at) WHERE confirmed_at IS NOT NULL;
      CREATE TABLE replication_clocks (
        package_name TEXT PRIMARY KEY,
        vector_json TEXT NOT NULL,
        hlc TEXT NOT NULL
      ) STRICT;
      CREATE TABLE replication_conflicts (
        id INTEGER PRIMARY KEY,
        package_name TEXT NOT NULL,
        version TEXT NOT NULL,
        kind TEXT NOT NULL,
        local_json TEXT NOT NULL,
        remote_json TEXT NOT NULL,
        detected_at INTEGER NOT NULL,
        resolved_at INTEGER,
        resolution TEXT
      ) STRICT;
    `);
  },
};
