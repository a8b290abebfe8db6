import type { Database } from 'better-sqlite3';
import { cdnSectionSchema, writeCdnSection, type CdnSection } from '../../../shared/domain/cdn';

/** The configured CDN section; async so a PostgreSQL dialect can stand in. All SQL of CDN config is here. */
export interface CdnConfigRepository {
  get(): Promise<CdnSection | null>;
  /** null removes the CDN configuration. */
  save(section: CdnSection | null): Promise<void>;
}

const sectionKey = 'section';

export class SqliteCdnConfigRepository implements CdnConfigRepository {
  private readonly statements;

  constructor(db: Database) {
    this.statements = {
      get: db.prepare<[string], { value_json: string }>('SELECT value_json FROM cdn_config WHERE key = ?'),
      save: db.prepare('INSERT INTO cdn_config (key, value_json, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at'),
      remove: db.prepare('DELETE FROM cdn_config WHERE key = ?'),
    };
  }

  get(): Promise<CdnSection | null> {
    const row = this.statements.get.get(sectionKey);
    // Stored as written (durations as text), so it parses back to the same values.
    return Promise.resolve(row ? cdnSectionSchema.parse(JSON.parse(row.value_json)) : null);
  }

  save(section: CdnSection | null): Promise<void> {
    if (section === null) this.statements.remove.run(sectionKey);
    else this.statements.save.run(sectionKey, JSON.stringify(writeCdnSection(section)), new Date().toISOString());
    return Promise.resolve();
  }
}
