import semver from 'semver';
import type { Database } from 'better-sqlite3';
import type { Migration } from './migration';
import { metricsMigration } from '../metrics/metrics-migration';
import { encryptionMigration } from '../registry/encryption-migration';
import { adminKeyMigration } from '../access/admin-key-migration';
import { mirrorsMigration } from '../mirrors/mirrors-migration';
import { replicationMigration } from '../replication/replication-migration';
import { cdnStatsMigration } from '../cdn/cdn-stats-migration';
import { cdnConfigMigration } from '../cdn/cdn-config-migration';
import { replicationSettingsMigration } from '../replication/replication-settings-migration';
import { backupMigration } from '../backup/backup-migration';

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
  {
    version: 3,
    name: 'registry: packages, versions, search index, api keys',
    up(db) {
      db.exec(`
        CREATE TABLE packages (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          created_at TEXT NOT NULL
        );
        CREATE TABLE package_versions (
          id INTEGER PRIMARY KEY,
          package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
          -- Denormalized so the all-versions list pages through one covering index.
          package_name TEXT NOT NULL,
          version TEXT NOT NULL,
          major INTEGER NOT NULL,
          minor INTEGER NOT NULL,
          patch INTEGER NOT NULL,
          prerelease TEXT NOT NULL DEFAULT '',
          is_release INTEGER NOT NULL DEFAULT 1,
          digest TEXT NOT NULL,
          size INTEGER NOT NULL,
          description TEXT,
          author TEXT,
          license TEXT,
          tags_json TEXT NOT NULL DEFAULT '[]',
          manifest_json TEXT NOT NULL,
          resources_json TEXT NOT NULL,
          dependencies_json TEXT NOT NULL DEFAULT '{}',
          published_at TEXT NOT NULL,
          published_by TEXT,
          downloads INTEGER NOT NULL DEFAULT 0,
          yanked INTEGER NOT NULL DEFAULT 0,
          UNIQUE (package_id, version)
        );
        CREATE INDEX package_versions_digest ON package_versions (digest);
        CREATE INDEX package_versions_list ON package_versions (package_name, major DESC, minor DESC, patch DESC, is_release DESC, prerelease DESC);
        -- One row per package (rowid = packages.id): what search ranks on.
        CREATE VIRTUAL TABLE package_search USING fts5 (name, description, tags, tokenize = 'unicode61', prefix = '1 2 3');
        INSERT INTO package_search (package_search, rank) VALUES ('rank', 'bm25(10.0, 2.0, 5.0)');
        CREATE TABLE api_keys (
          id TEXT PRIMARY KEY,
          label TEXT NOT NULL,
          key_hash TEXT NOT NULL UNIQUE,
          role TEXT NOT NULL,
          created_at TEXT NOT NULL,
          expires_at TEXT,
          revoked_at TEXT,
          last_used_at TEXT
        );
      `);
    },
  },
  {
    version: 4,
    name: 'package cache index',
    up(db) {
      db.exec(`
        CREATE TABLE cache_entries (
          digest TEXT PRIMARY KEY,
          size INTEGER NOT NULL,
          name TEXT NOT NULL,
          version TEXT NOT NULL,
          registry_url TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          last_access_at INTEGER NOT NULL,
          hits INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX cache_entries_lru ON cache_entries (last_access_at);
        CREATE INDEX cache_entries_name ON cache_entries (registry_url, name, version);
        CREATE TABLE cache_counters (
          name TEXT PRIMARY KEY,
          value INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 5,
    name: 'registry: latest-version summary per package, search prefix index up to 8 characters',
    up(db) {
      // Search results and the browse list show each package's newest non-yanked version and its total
      // downloads: kept on the package row, they cost one row read instead of parsing every version.
      // latest_version is NULL when every version is yanked (the package is then not listed).
      db.exec(`
        ALTER TABLE packages ADD COLUMN latest_version TEXT;
        ALTER TABLE packages ADD COLUMN latest_description TEXT;
        ALTER TABLE packages ADD COLUMN latest_author TEXT;
        ALTER TABLE packages ADD COLUMN latest_license TEXT;
        ALTER TABLE packages ADD COLUMN latest_tags_json TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE packages ADD COLUMN latest_size INTEGER;
        ALTER TABLE packages ADD COLUMN latest_digest TEXT;
        ALTER TABLE packages ADD COLUMN latest_published_at TEXT;
        ALTER TABLE packages ADD COLUMN downloads INTEGER NOT NULL DEFAULT 0;
        -- The browse list and its count. latest_version in the key makes both covered: without it SQLite
        -- checked the WHERE against every table row (count at 100k packages: 5 ms instead of 1.7 ms).
        CREATE INDEX packages_listed ON packages (name, latest_version) WHERE latest_version IS NOT NULL;
        -- Prefix queries longer than the longest prefix index merge every matching term's whole
        -- doclist ("model"* over 100k packages: 8 ms against 0.5 ms); 1-8 covers what people type.
        DROP TABLE package_search;
        CREATE VIRTUAL TABLE package_search USING fts5 (name, description, tags, tokenize = 'unicode61', prefix = '1 2 3 4 5 6 7 8');
        INSERT INTO package_search (package_search, rank) VALUES ('rank', 'bm25(10.0, 2.0, 5.0)');
      `);
      backfillPackageSummaries(db);
      db.exec(`INSERT INTO package_search (package_search) VALUES ('optimize')`);
    },
  },
  {
    version: 6,
    name: 'storage: resumable multipart uploads, per-backend statistics',
    up(db) {
      // A multipart upload survives a restart: its upload id and every finished part are kept
      // until the object is complete (or the upload is aborted).
      db.exec(`
        CREATE TABLE storage_multipart_uploads (
          id INTEGER PRIMARY KEY,
          store TEXT NOT NULL,
          object_key TEXT NOT NULL,
          upload_id TEXT NOT NULL,
          source_path TEXT NOT NULL,
          source_size INTEGER NOT NULL,
          source_mtime_ms INTEGER NOT NULL,
          part_size INTEGER NOT NULL,
          created_at TEXT NOT NULL,
          UNIQUE (store, object_key, source_path)
        );
        CREATE TABLE storage_multipart_parts (
          upload_row INTEGER NOT NULL REFERENCES storage_multipart_uploads (id) ON DELETE CASCADE,
          part_number INTEGER NOT NULL,
          etag TEXT NOT NULL,
          size INTEGER NOT NULL,
          PRIMARY KEY (upload_row, part_number)
        ) WITHOUT ROWID;
        CREATE TABLE storage_stats (
          backend_id TEXT PRIMARY KEY,
          gets INTEGER NOT NULL DEFAULT 0,
          puts INTEGER NOT NULL DEFAULT 0,
          deletes INTEGER NOT NULL DEFAULT 0,
          other_calls INTEGER NOT NULL DEFAULT 0,
          bytes_read INTEGER NOT NULL DEFAULT 0,
          bytes_written INTEGER NOT NULL DEFAULT 0,
          errors INTEGER NOT NULL DEFAULT 0,
          retries INTEGER NOT NULL DEFAULT 0,
          latency_ms_total REAL NOT NULL DEFAULT 0,
          calls INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          last_error_at TEXT,
          updated_at TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 7,
    name: 'signing: trusted publisher keys, package version signatures',
    up(db) {
      // trusted_keys is the trust store of this install: the host marks signatures by these keys trusted,
      // and downloads under a `require` policy accept only them. key_id is minisign's 16 hex digits.
      // blake2b512 is what an `ED` signature signs: kept so trust can be re-checked without re-reading the blob.
      db.exec(`
        CREATE TABLE trusted_keys (
          key_id TEXT PRIMARY KEY,
          public_key TEXT NOT NULL,
          label TEXT NOT NULL,
          added_at TEXT NOT NULL,
          retired_at TEXT
        ) STRICT;
        CREATE TABLE package_signatures (
          id INTEGER PRIMARY KEY,
          version_id INTEGER NOT NULL REFERENCES package_versions (id) ON DELETE CASCADE,
          key_id TEXT NOT NULL,
          signature TEXT NOT NULL,
          blake2b512 TEXT NOT NULL,
          signed_at TEXT,
          uploaded_at TEXT NOT NULL,
          uploaded_by TEXT,
          UNIQUE (version_id, key_id)
        ) STRICT;
      `);
    },
  },
  {
    version: 8,
    name: 'access control: users, roles, grants, owners, visibility, scoped keys, audit log',
    up(db) {
      db.exec(`
        CREATE TABLE users (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          email TEXT NOT NULL,
          active INTEGER NOT NULL DEFAULT 1,
          created_at TEXT NOT NULL
        ) STRICT;
        -- Built-in roles live in code; only custom roles are rows.
        CREATE TABLE custom_roles (
          name TEXT PRIMARY KEY,
          permissions_json TEXT NOT NULL,
          created_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE role_grants (
          id TEXT PRIMARY KEY,
          user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          role TEXT NOT NULL,
          scope TEXT NOT NULL,
          created_at TEXT NOT NULL,
          UNIQUE (user_id, role, scope)
        ) STRICT;
        CREATE INDEX role_grants_role ON role_grants (role);
        CREATE TABLE package_owners (
          package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
          user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          PRIMARY KEY (package_id, user_id)
        ) STRICT;
        CREATE INDEX package_owners_user ON package_owners (user_id);
        ALTER TABLE packages ADD COLUMN visibility TEXT NOT NULL DEFAULT 'internal' CHECK (visibility IN ('public', 'internal', 'private'));
        -- Search finds the packages hidden from a caller (internal, private) without reading the rest.
        CREATE INDEX packages_visibility ON packages (visibility, id);
        ALTER TABLE api_keys ADD COLUMN user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
        ALTER TABLE api_keys ADD COLUMN permissions_json TEXT;
        ALTER TABLE api_keys ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
        CREATE INDEX api_keys_user ON api_keys (user_id);
        CREATE TABLE access_settings (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;
        CREATE TABLE audit_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          at TEXT NOT NULL,
          actor_id TEXT,
          actor TEXT,
          action TEXT NOT NULL,
          target TEXT,
          source TEXT,
          details_json TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_events_at ON audit_events (at);
        CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE (ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE (ABORT, 'the audit log is append-only'); END;
      `);
      // Keys made before users existed were admin keys: each becomes the key of its own admin user.
      const keys = db.prepare('SELECT id, label, role, created_at FROM api_keys').all() as Array<{ id: string; label: string; role: string; created_at: string }>;
      for (const key of keys) {
        const userId = `key-${key.id.slice(0, 8)}`;
        db.prepare('INSERT INTO users (id, name, email, active, created_at) VALUES (?, ?, ?, 1, ?)').run(userId, `${key.label} (${key.id.slice(0, 8)})`, '', key.created_at);
        db.prepare(`INSERT INTO role_grants (id, user_id, role, scope, created_at) VALUES (?, ?, ?, '*', ?)`).run(`grant-${key.id.slice(0, 8)}`, userId, key.role === 'admin' ? 'admin' : 'viewer', key.created_at);
        db.prepare('UPDATE api_keys SET user_id = ? WHERE id = ?').run(userId, key.id);
      }
    },
  },
  metricsMigration,
  encryptionMigration,
  adminKeyMigration,
  mirrorsMigration,
  replicationMigration,
  backupMigration,
  cdnStatsMigration,
  replicationSettingsMigration,
  cdnConfigMigration,
];

interface SummarySourceRow {
  version: string;
  description: string | null;
  author: string | null;
  license: string | null;
  tags_json: string;
  size: number;
  digest: string;
  published_at: string;
  downloads: number;
  yanked: number;
}

/** Migration 5's backfill, frozen here: later changes to the registry code must not change what it did. */
function backfillPackageSummaries(db: Database): void {
  const packages = db.prepare('SELECT id, name FROM packages ORDER BY id').all() as Array<{ id: number; name: string }>;
  const versionsOf = db.prepare(`SELECT version, description, author, license, tags_json, size, digest, published_at, downloads, yanked
    FROM package_versions WHERE package_id = ?`);
  const update = db.prepare(`UPDATE packages SET latest_version = ?, latest_description = ?, latest_author = ?, latest_license = ?, latest_tags_json = ?,
    latest_size = ?, latest_digest = ?, latest_published_at = ?, downloads = ? WHERE id = ?`);
  const insertSearch = db.prepare('INSERT INTO package_search (rowid, name, description, tags) VALUES (?, ?, ?, ?)');
  for (const { id, name } of packages) {
    const versions = versionsOf.all(id) as SummarySourceRow[];
    const downloads = versions.reduce((sum, row) => sum + row.downloads, 0);
    const latest = versions.filter((row) => row.yanked === 0).sort((a, b) => semver.rcompare(a.version, b.version))[0];
    update.run(latest?.version ?? null, latest?.description ?? null, latest?.author ?? null, latest?.license ?? null, latest?.tags_json ?? '[]',
      latest?.size ?? null, latest?.digest ?? null, latest?.published_at ?? null, downloads, id);
    if (latest) insertSearch.run(id, name.replace(/[/._-]/g, ' ') + ' ' + name, latest.description ?? '', (JSON.parse(latest.tags_json) as string[]).join(' '));
  }
}
