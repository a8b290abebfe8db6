import { afterEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import path from 'node:path';
import { migrations } from '../../../../electron/services/database/migrations';
import { currentSchemaVersion, MigrationError, runMigrations } from '../../../../electron/services/database/migrator';
import { openDatabase } from '../../../../electron/services/database/open-database';
import type { Migration } from '../../../../electron/services/database/migration';
import { createCore } from '../../../../electron/services/composition-root';
import { silentLogger } from '../../../../electron/services/logger';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
const latest = migrations.at(-1)!.version;
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function tempDatabaseFile(): string {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  return path.join(temp.dir, 'test.sqlite');
}

function tableNames(db: BetterSqlite3.Database): string[] {
  return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((row) => row.name);
}

describe('database migrations', () => {
  it('upgrades a database created at migration 1 to the latest version, keeping its rows', () => {
    const file = tempDatabaseFile();
    const first = migrations.slice(0, 1);
    const old = openDatabase(file, first);
    expect(currentSchemaVersion(old)).toBe(1);
    old.prepare(`INSERT INTO jobs (id, kind, title, status, created_at) VALUES ('j1', 'data-folder-check', 'old job', 'succeeded', '2026-01-01T00:00:00Z')`).run();
    old.close();

    const upgraded = openDatabase(file, migrations);
    expect(currentSchemaVersion(upgraded)).toBe(latest);
    expect(tableNames(upgraded)).toEqual(expect.arrayContaining(['jobs', 'install_meta', 'schema_migrations']));
    expect(upgraded.prepare(`SELECT title FROM jobs WHERE id = 'j1'`).get()).toEqual({ title: 'old job' });
    const recorded = upgraded.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(recorded).toEqual(migrations.map((migration) => ({ version: migration.version, name: migration.name })));
    upgraded.close();
  });

  it('sets WAL, foreign keys and a busy timeout', () => {
    const db = openDatabase(tempDatabaseFile(), migrations);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    db.close();
  });

  it('a failing migration leaves the database untouched and stops start-up with a clear error', () => {
    const file = tempDatabaseFile();
    openDatabase(file, migrations).close();
    const failing: Migration = {
      version: latest + 1,
      name: 'broken step',
      up(db) {
        db.exec('CREATE TABLE half_done (id INTEGER)');
        db.exec('INSERT INTO no_such_table VALUES (1)');
      },
    };
    expect(() => openDatabase(file, [...migrations, failing])).toThrow(MigrationError);
    expect(() => openDatabase(file, [...migrations, failing])).toThrow(/migration \d+ \(broken step\) failed/);

    const db = new BetterSqlite3(file);
    expect(currentSchemaVersion(db)).toBe(latest);
    expect(tableNames(db)).not.toContain('half_done');
    db.close();
  });

  it('createCore refuses to start on a failed migration instead of carrying on', () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const failing: Migration = { version: latest + 1, name: 'boom', up: () => { throw new Error('disk on fire'); } };
    expect(() => createCore({ dataDir: temp.dir, shell: 'headless', logger: silentLogger, migrations: [...migrations, failing] })).toThrow(/boom.*disk on fire/);
  });

  it('refuses a database newer than this build, and numbering that does not rise', () => {
    const file = tempDatabaseFile();
    openDatabase(file, migrations).close();
    const db = new BetterSqlite3(file);
    expect(() => runMigrations(db, migrations.slice(0, 1))).toThrow(/newer than this build/);
    const repeated: Migration = { version: latest, name: 'again', up: () => undefined };
    expect(() => runMigrations(db, [...migrations, repeated])).toThrow(/rising order/);
    db.close();
  });

  it('applies a migration that lands in a gap after a later one already ran (parallel capabilities)', () => {
    const file = tempDatabaseFile();
    const later: Migration = { version: latest + 2, name: 'later', up: (db) => db.exec('CREATE TABLE later_table (id INTEGER)') };
    const gapFiller: Migration = { version: latest + 1, name: 'filler', up: (db) => db.exec('CREATE TABLE filler_table (id INTEGER)') };
    openDatabase(file, [...migrations, later]).close();
    const db = openDatabase(file, [...migrations, gapFiller, later]);
    expect(tableNames(db)).toEqual(expect.arrayContaining(['later_table', 'filler_table']));
    expect(currentSchemaVersion(db)).toBe(latest + 2);
    db.close();
    // A build that lacks a migration the database has is refused, even when it knows a higher one.
    const older = new BetterSqlite3(file);
    expect(() => runMigrations(older, [...migrations, later])).toThrow(/does not know/);
    older.close();
  });
});
