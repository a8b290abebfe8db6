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
 * Applies every migration the database has not recorded, in order, each in its own transaction together
 * with its record, so a failure leaves the database at the last good step and stops start-up.
 * Versions rise but may leave gaps: capabilities built in parallel own numbers that land in any order
 * (12 before 11), and a later build that brings 11 applies it to a database already at 12.
 */
export function runMigrations(db: Database, all: readonly Migration[], now: () => Date = () => new Date()): { from: number; to: number } {
  validateMigrationList(all);
  const from = currentSchemaVersion(db);
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((row) => row.version));
  const known = new Set(all.map((migration) => migration.version));
  const unknown = [...applied].filter((version) => !known.has(version)).sort((a, b) => a - b);
  if (unknown.length > 0) {
    const latestKnown = all.at(-1)?.version ?? 0;
    const newer = unknown.at(-1)! > latestKnown;
    throw new Error(
      newer
        ? `The database is at schema version ${from}, newer than this build knows (${latestKnown}). Use a newer Torsh Depot; the database was not changed.`
        : `The database has schema migration(s) ${unknown.join(', ')} that this build does not know. Use a newer Torsh Depot; the database was not changed.`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of all) {
    if (applied.has(migration.version)) continue;
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
    const previous = index === 0 ? 0 : all[index - 1]!.version;
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      throw new Error(`Migrations must be numbered in rising order (1, 2, 3…); found ${migration.version} after ${previous}.`);
    }
  });
}
