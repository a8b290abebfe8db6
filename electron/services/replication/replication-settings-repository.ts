import type { Database } from 'better-sqlite3';
import type { ReplicationSectionInput } from '../../../shared/domain/replication';

/** The stored replication section, behind an async interface (another SQL dialect may take its place). */
export interface ReplicationSettingsRepository {
  /** The section as last saved, in its written form; null when none ever was. */
  load(): Promise<ReplicationSectionInput | null>;
  save(section: ReplicationSectionInput, nowIso: string): Promise<void>;
}

export class SqliteReplicationSettings implements ReplicationSettingsRepository {
  constructor(private readonly db: Database) {}

  async load(): Promise<ReplicationSectionInput | null> {
    const row = this.db.prepare('SELECT section_json FROM replication_section WHERE id = 1').get() as { section_json: string } | undefined;
    return Promise.resolve(row ? (JSON.parse(row.section_json) as ReplicationSectionInput) : null);
  }

  async save(section: ReplicationSectionInput, nowIso: string): Promise<void> {
    this.db
      .prepare('INSERT INTO replication_section (id, section_json, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET section_json = excluded.section_json, updated_at = excluded.updated_at')
      .run(JSON.stringify(section), nowIso);
    return Promise.resolve();
  }
}
