import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { runMigrations } from './migrator';
import type { Migration } from './migration';

/** Opens (or creates) the product database with the pragmas every service relies on, then migrates it. */
export function openDatabase(file: string, migrations: readonly Migration[]): Database {
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    runMigrations(db, migrations);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
