import type { Migration } from './migration';

/** Every migration of the product, in order. Capabilities append theirs. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs',
    up(db) {
      db.exec(`
        CREATE TABLE jobs (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          title TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled','interrupted')),
          progress REAL,
          message TEXT,
          params_json TEXT NOT NULL DEFAULT '{}',
          result_json TEXT,
          error_json TEXT,
          created_at TEXT NOT NULL,
          started_at TEXT,
          finished_at TEXT
        );
        CREATE INDEX jobs_created_at ON jobs (created_at DESC);
        CREATE INDEX jobs_status ON jobs (status);
      `);
    },
  },
  {
    version: 2,
    name: 'key-value metadata of the install',
    up(db) {
      db.exec(`
        CREATE TABLE install_meta (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
];
