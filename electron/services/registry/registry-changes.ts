import type { Database } from 'better-sqlite3';

/** How far a mirror's index (at `serial`) is behind the registry. */
export interface RegistryLag {
  serial: number;
  /** Changes (publishes, yanks, signatures) after the given serial. */
  changesBehind: number;
  /** When the oldest of those happened (null when none). */
  oldestMissedAt: string | null;
}

/**
 * The registry's change serial: one row per publish, yank/unyank and signature, written by triggers
 * (migration 12), so every write path raises it. Mirrors' indexes carry the serial they reflect.
 */
export class RegistryChanges {
  private readonly statements;

  constructor(db: Database) {
    this.statements = {
      serial: db.prepare<[], { serial: number | null }>('SELECT MAX(serial) AS serial FROM registry_changes'),
      since: db.prepare<[number], { count: number; oldest: string | null }>('SELECT COUNT(*) AS count, MIN(at) AS oldest FROM registry_changes WHERE serial > ?'),
    };
  }

  async serial(): Promise<number> {
    return this.statements.serial.get()?.serial ?? 0;
  }

  async lagSince(serial: number): Promise<RegistryLag> {
    const row = this.statements.since.get(serial);
    return { serial: await this.serial(), changesBehind: row?.count ?? 0, oldestMissedAt: row?.oldest ?? null };
  }
}
