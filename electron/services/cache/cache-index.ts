import type { Database, Statement } from 'better-sqlite3';

/** One row of `cache_entries`: a cached package file, named by its digest. */
export interface CacheIndexRow {
  digest: string;
  size: number;
  name: string;
  version: string;
  registryUrl: string;
  createdAt: number;
  lastAccessAt: number;
  hits: number;
}

interface RawRow {
  digest: string;
  size: number;
  name: string;
  version: string;
  registry_url: string;
  created_at: number;
  last_access_at: number;
  hits: number;
}

export type CacheCounter = 'hits' | 'misses' | 'evictions';

const columns = 'digest, size, name, version, registry_url, created_at, last_access_at, hits';

function toRow(raw: RawRow): CacheIndexRow {
  return {
    digest: raw.digest,
    size: raw.size,
    name: raw.name,
    version: raw.version,
    registryUrl: raw.registry_url,
    createdAt: raw.created_at,
    lastAccessAt: raw.last_access_at,
    hits: raw.hits,
  };
}

/** All SQL of the package cache (migration 4's `cache_entries` and `cache_counters`). */
export class CacheIndex {
  private readonly byName: Statement<[string, string, string]>;
  private readonly byDigest: Statement<[string]>;
  private readonly versionsOf: Statement<[string, string]>;
  private readonly all: Statement<[]>;
  private readonly upsert: Statement<[string, number, string, string, string, number, number]>;
  private readonly touchRow: Statement<[number, string]>;
  private readonly deleteRow: Statement<[string]>;
  private readonly deleteAll: Statement<[]>;
  private readonly totals: Statement<[]>;
  private readonly lruExcept: Statement<[string]>;
  private readonly bumpCounter: Statement<[string, number]>;
  private readonly counters: Statement<[]>;

  constructor(private readonly db: Database) {
    this.byName = db.prepare(`SELECT ${columns} FROM cache_entries WHERE registry_url = ? AND name = ? AND version = ? LIMIT 1`);
    this.byDigest = db.prepare(`SELECT ${columns} FROM cache_entries WHERE digest = ?`);
    this.versionsOf = db.prepare('SELECT version FROM cache_entries WHERE registry_url = ? AND name = ?');
    this.all = db.prepare(`SELECT ${columns} FROM cache_entries ORDER BY last_access_at DESC, digest`);
    // A digest is one file: a later fetch of the same bytes under another name re-labels the row.
    this.upsert = db.prepare(`INSERT INTO cache_entries (digest, size, name, version, registry_url, created_at, last_access_at, hits)
      VALUES (?, ?, ?, ?, ?, ?, ?, 0)
      ON CONFLICT (digest) DO UPDATE SET size = excluded.size, name = excluded.name, version = excluded.version,
        registry_url = excluded.registry_url, last_access_at = excluded.last_access_at`);
    this.touchRow = db.prepare('UPDATE cache_entries SET last_access_at = ?, hits = hits + 1 WHERE digest = ?');
    this.deleteRow = db.prepare('DELETE FROM cache_entries WHERE digest = ?');
    this.deleteAll = db.prepare('DELETE FROM cache_entries');
    this.totals = db.prepare('SELECT COUNT(*) AS entries, COALESCE(SUM(size), 0) AS bytes FROM cache_entries');
    this.lruExcept = db.prepare(`SELECT ${columns} FROM cache_entries WHERE digest <> ? ORDER BY last_access_at ASC, digest`);
    this.bumpCounter = db.prepare('INSERT INTO cache_counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value');
    this.counters = db.prepare('SELECT name, value FROM cache_counters');
  }

  findByName(registryUrl: string, name: string, version: string): CacheIndexRow | null {
    const raw = this.byName.get(registryUrl, name, version) as RawRow | undefined;
    return raw ? toRow(raw) : null;
  }

  findByDigest(digest: string): CacheIndexRow | null {
    const raw = this.byDigest.get(digest) as RawRow | undefined;
    return raw ? toRow(raw) : null;
  }

  cachedVersions(registryUrl: string, name: string): string[] {
    return (this.versionsOf.all(registryUrl, name) as Array<{ version: string }>).map((row) => row.version);
  }

  list(): CacheIndexRow[] {
    return (this.all.all() as RawRow[]).map(toRow);
  }

  record(entry: { digest: string; size: number; name: string; version: string; registryUrl: string }, now: number): void {
    this.upsert.run(entry.digest, entry.size, entry.name, entry.version, entry.registryUrl, now, now);
  }

  touch(digest: string, now: number): void {
    this.touchRow.run(now, digest);
  }

  remove(digest: string): boolean {
    return this.deleteRow.run(digest).changes > 0;
  }

  removeAll(): CacheIndexRow[] {
    return this.db.transaction(() => {
      const rows = this.list();
      this.deleteAll.run();
      return rows;
    }).immediate();
  }

  totalsNow(): { entries: number; bytes: number } {
    return this.totals.get() as { entries: number; bytes: number };
  }

  /**
   * Picks and deletes least-recently-used rows until the total fits `maxBytes`, in one write
   * transaction so two processes evicting at once never both count the same bytes.
   * Returns the rows removed: their files are deleted by the caller, after the commit.
   */
  evict(maxBytes: number, keep: ReadonlySet<string>, protect: string): CacheIndexRow[] {
    return this.db.transaction(() => {
      let { bytes } = this.totalsNow();
      const removed: CacheIndexRow[] = [];
      if (bytes <= maxBytes) return removed;
      for (const raw of this.lruExcept.iterate(protect) as IterableIterator<RawRow>) {
        if (bytes <= maxBytes) break;
        if (keep.has(raw.digest)) continue;
        removed.push(toRow(raw));
        bytes -= raw.size;
      }
      for (const row of removed) this.deleteRow.run(row.digest);
      if (removed.length > 0) this.bumpCounter.run('evictions', removed.length);
      return removed;
    }).immediate();
  }

  bump(counter: CacheCounter, by = 1): void {
    this.bumpCounter.run(counter, by);
  }

  readCounters(): Record<CacheCounter, number> {
    const values: Record<CacheCounter, number> = { hits: 0, misses: 0, evictions: 0 };
    for (const row of this.counters.all() as Array<{ name: string; value: number }>) {
      if (row.name === 'hits' || row.name === 'misses' || row.name === 'evictions') values[row.name] = row.value;
    }
    return values;
  }
}
