import type { Database } from 'better-sqlite3';
import type { Migration } from './migration';
import { crashPoint } from '../fs/crash-point';

export class MigrationError extends Error {
  constructor(
    readonly version: number,
    readonly migrationName: string,
    cause: unknown,
  ) {
    super(`Database migration ${version} (${migrationName}) failed: ${cause instanceof Error ? cause.message : String(cause)}. The database was left at the previous version.`, { cause });
    this.name = 'MigrationError';
  }
}

export function currentSchemaVersion(db: Database): number {
  ensureMigrationsTable(db);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

function ensureMigrationsTable(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
}

/**
 * Applies every migration newer than the database, each in its own transaction together with its
 * record, so a failure leaves the database exactly at the last good version and stops start-up.
 */
export function runMigrations(db: Database, all: readonly Migration[], now: () => Date = () => new Date()): { from: number; to: number } {
  validateMigrationList(all);
  const from = currentSchemaVersion(db);
  const latestKnown = all.at(-1)?.version ?? 0;
  if (from > latestKnown) {
    throw new Error(`The database is at schema version ${from}, newer than this build knows (${latestKnown}). Use a newer Torsh Depot; the database was not changed.`);
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of all) {
    if (migration.version <= from) continue;
    const apply = db.transaction(() => {
      migration.up(db);
      crashPoint(`migration-${migration.version}`);
      record.run(migration.version, migration.name, now().toISOString());
    });
    try {
      apply();
    } catch (error) {
      throw new MigrationError(migration.version, migration.name, error);
    }
  }
  return { from, to: currentSchemaVersion(db) };
}

function validateMigrationList(all: readonly Migration[]): void {
  all.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`Migrations must be numbered 1, 2, 3… without gaps; found ${migration.version} at position ${index + 1}.`);
    }
  });
}
