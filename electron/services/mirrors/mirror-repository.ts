import type { Database } from 'better-sqlite3';
import { mirrorConfigSchema, mirrorsSettingsSchema, writeMirrorsSettings, type MirrorConfig, type MirrorsSettings } from '../../../shared/domain/mirrors';

/** Per-mirror traffic counters. */
export interface MirrorCounters {
  downloads: number;
  bytes: number;
  failures: number;
  failovers: number;
}

/** The mirror set and its counters. Async so a PostgreSQL dialect can stand in; all SQL of mirrors is here. */
export interface MirrorRepository {
  list(): Promise<MirrorConfig[]>;
  get(id: string): Promise<MirrorConfig | null>;
  /** Appends at the end of the list. */
  insert(config: MirrorConfig): Promise<void>;
  update(config: MirrorConfig): Promise<void>;
  remove(id: string): Promise<boolean>;
  /** Replaces the whole list (config import), keeping counters of ids that stay. */
  replaceAll(configs: MirrorConfig[]): Promise<void>;
  settings(): Promise<MirrorsSettings | null>;
  saveSettings(settings: MirrorsSettings): Promise<void>;
  counters(): Promise<Map<string, MirrorCounters>>;
  addCounters(id: string, delta: Partial<MirrorCounters>): Promise<void>;
}

const settingsKey = 'section';

export class SqliteMirrorRepository implements MirrorRepository {
  private readonly statements;

  constructor(private readonly db: Database) {
    this.statements = {
      list: db.prepare<[], { config_json: string }>('SELECT config_json FROM mirrors ORDER BY position, id'),
      get: db.prepare<[string], { config_json: string }>('SELECT config_json FROM mirrors WHERE id = ?'),
      insert: db.prepare(`INSERT INTO mirrors (id, position, config_json, created_at, updated_at)
        VALUES (@id, (SELECT COALESCE(MAX(position), 0) + 1 FROM mirrors), @json, @now, @now)`),
      update: db.prepare('UPDATE mirrors SET config_json = @json, updated_at = @now WHERE id = @id'),
      remove: db.prepare('DELETE FROM mirrors WHERE id = ?'),
      upsertAt: db.prepare(`INSERT INTO mirrors (id, position, config_json, created_at, updated_at) VALUES (@id, @position, @json, @now, @now)
        ON CONFLICT (id) DO UPDATE SET position = excluded.position, config_json = excluded.config_json, updated_at = excluded.updated_at`),
      settings: db.prepare<[string], { value_json: string }>('SELECT value_json FROM mirror_settings WHERE key = ?'),
      saveSettings: db.prepare('INSERT INTO mirror_settings (key, value_json) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json'),
      counters: db.prepare<[], { mirror_id: string } & MirrorCounters>('SELECT mirror_id, downloads, bytes, failures, failovers FROM mirror_stats'),
      addCounters: db.prepare(`INSERT INTO mirror_stats (mirror_id, downloads, bytes, failures, failovers) VALUES (@id, @downloads, @bytes, @failures, @failovers)
        ON CONFLICT (mirror_id) DO UPDATE SET downloads = downloads + excluded.downloads, bytes = bytes + excluded.bytes,
          failures = failures + excluded.failures, failovers = failovers + excluded.failovers`),
    };
  }

  async list(): Promise<MirrorConfig[]> {
    return this.statements.list.all().map((row) => mirrorConfigSchema.parse(JSON.parse(row.config_json)));
  }

  async get(id: string): Promise<MirrorConfig | null> {
    const row = this.statements.get.get(id);
    return row ? mirrorConfigSchema.parse(JSON.parse(row.config_json)) : null;
  }

  async insert(config: MirrorConfig): Promise<void> {
    this.statements.insert.run({ id: config.id, json: JSON.stringify(config), now: new Date().toISOString() });
  }

  async update(config: MirrorConfig): Promise<void> {
    this.statements.update.run({ id: config.id, json: JSON.stringify(config), now: new Date().toISOString() });
  }

  async remove(id: string): Promise<boolean> {
    return this.statements.remove.run(id).changes > 0;
  }

  async replaceAll(configs: MirrorConfig[]): Promise<void> {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      const keep = new Set(configs.map((config) => config.id));
      for (const existing of this.statements.list.all().map((row) => (JSON.parse(row.config_json) as { id: string }).id)) {
        if (!keep.has(existing)) this.statements.remove.run(existing);
      }
      configs.forEach((config, index) => this.statements.upsertAt.run({ id: config.id, position: index + 1, json: JSON.stringify(config), now }));
    })();
  }

  async settings(): Promise<MirrorsSettings | null> {
    const row = this.statements.settings.get(settingsKey);
    return row ? mirrorsSettingsSchema.parse(JSON.parse(row.value_json)) : null;
  }

  async saveSettings(settings: MirrorsSettings): Promise<void> {
    // Stored as written (`60s`): parsing ms back through the schema would read them as seconds.
    this.statements.saveSettings.run(settingsKey, JSON.stringify(writeMirrorsSettings(settings)));
  }

  async counters(): Promise<Map<string, MirrorCounters>> {
    return new Map(this.statements.counters.all().map(({ mirror_id, ...counters }) => [mirror_id, counters]));
  }

  async addCounters(id: string, delta: Partial<MirrorCounters>): Promise<void> {
    this.statements.addCounters.run({ id, downloads: delta.downloads ?? 0, bytes: delta.bytes ?? 0, failures: delta.failures ?? 0, failovers: delta.failovers ?? 0 });
  }
}
