import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';

const key = 'replication.registry_id';

/** This install's id in version vectors and clocks: made once, kept in `install_meta`. */
export function replicationRegistryId(db: Database): string {
  db.prepare('INSERT OR IGNORE INTO install_meta (key, value) VALUES (?, ?)').run(key, `registry-${randomUUID().slice(0, 8)}`);
  return (db.prepare('SELECT value FROM install_meta WHERE key = ?').get(key) as { value: string }).value;
}
