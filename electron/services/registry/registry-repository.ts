import type { Database } from 'better-sqlite3';
import semver from 'semver';
import type { PackageSummary, PackageVersionMetadata, VersionRow } from '../../../shared/domain/registry';

interface VersionRowDb {
  id: number;
  package_id: number;
  name: string;
  version: string;
  digest: string;
  size: number;
  description: string | null;
  author: string | null;
  license: string | null;
  tags_json: string;
  resources_json: string;
  dependencies_json: string;
  published_at: string;
  downloads: number;
  yanked: number;
}

export interface NewVersion {
  name: string;
  version: string;
  digest: string;
  size: number;
  description: string | null;
  author: string | null;
  license: string | null;
  tags: string[];
  manifestJson: string;
  resources: PackageVersionMetadata['resources'];
  dependencies: Record<string, string>;
  publishedAt: string;
  publishedBy: string | null;
}

/** Above this many matches, ranking every one costs more than a search may take. */
const rankLimit = 5_000;
/** Totals are exact up to here. */
const countLimit = 10_000;

const versionColumns = `v.id, v.package_id, p.name, v.version, v.digest, v.size, v.description, v.author, v.license, v.tags_json,
  v.resources_json, v.dependencies_json, v.published_at, v.downloads, v.yanked`;

/** All SQL of the registry: packages, versions and the FTS5 search index. */
export class RegistryRepository {
  private readonly findVersionStmt;
  private readonly versionsOfStmt;
  private readonly packageIdStmt;
  private readonly insertPackageStmt;
  private readonly insertVersionStmt;
  private readonly setYankedStmt;
  private readonly addDownloadsStmt;
  private readonly deleteSearchStmt;
  private readonly insertSearchStmt;
  private readonly listRowsStmt;
  private readonly countVersionsStmt;

  constructor(private readonly db: Database) {
    this.findVersionStmt = db.prepare(`SELECT ${versionColumns} FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? AND v.version = ?`);
    this.versionsOfStmt = db.prepare(`SELECT ${versionColumns} FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ?`);
    this.packageIdStmt = db.prepare('SELECT id FROM packages WHERE name = ?');
    this.insertPackageStmt = db.prepare('INSERT INTO packages (name, created_at) VALUES (?, ?)');
    this.insertVersionStmt = db.prepare(`INSERT INTO package_versions (package_id, package_name, version, major, minor, patch, prerelease, is_release, digest, size,
      description, author, license, tags_json, manifest_json, resources_json, dependencies_json, published_at, published_by)
      VALUES (@package_id, @package_name, @version, @major, @minor, @patch, @prerelease, @is_release, @digest, @size, @description, @author, @license, @tags_json,
      @manifest_json, @resources_json, @dependencies_json, @published_at, @published_by)`);
    this.setYankedStmt = db.prepare(`UPDATE package_versions SET yanked = ? WHERE id = ?`);
    this.addDownloadsStmt = db.prepare('UPDATE package_versions SET downloads = downloads + ? WHERE id = ?');
    this.deleteSearchStmt = db.prepare('DELETE FROM package_search WHERE rowid = ?');
    this.insertSearchStmt = db.prepare('INSERT INTO package_search (rowid, name, description, tags) VALUES (?, ?, ?, ?)');
    // Page through the covering index first, then fetch only the 100 rows shown.
    this.listRowsStmt = db.prepare(`SELECT v.package_name AS name, v.version, v.description, v.size, v.downloads, v.yanked, v.published_at
      FROM (SELECT id FROM package_versions ORDER BY package_name, major DESC, minor DESC, patch DESC, is_release DESC, prerelease DESC LIMIT ? OFFSET ?) page
      JOIN package_versions v ON v.id = page.id
      ORDER BY v.package_name, v.major DESC, v.minor DESC, v.patch DESC, v.is_release DESC, v.prerelease DESC`);
    this.countVersionsStmt = db.prepare('SELECT COUNT(*) AS total FROM package_versions');
  }

  findVersion(name: string, version: string): PackageVersionMetadata | undefined {
    const row = this.findVersionStmt.get(name, version) as VersionRowDb | undefined;
    return row && toMetadata(row);
  }

  /** Versions of a package, newest first by semver precedence. */
  versionsOf(name: string): PackageVersionMetadata[] {
    return (this.versionsOfStmt.all(name) as VersionRowDb[]).map(toMetadata).sort((a, b) => semver.rcompare(a.version, b.version));
  }

  /** Inserts the version and refreshes the search row in one transaction: visible all at once or not at all. */
  insertVersion(entry: NewVersion): void {
    const parsed = semver.parse(entry.version);
    if (!parsed) throw new Error(`insertVersion got an unchecked version ${entry.version}`);
    this.db.transaction(() => {
      const existing = this.packageIdStmt.get(entry.name) as { id: number } | undefined;
      const packageId = existing?.id ?? Number(this.insertPackageStmt.run(entry.name, entry.publishedAt).lastInsertRowid);
      this.insertVersionStmt.run({
        package_id: packageId,
        package_name: entry.name,
        version: entry.version,
        major: parsed.major,
        minor: parsed.minor,
        patch: parsed.patch,
        prerelease: parsed.prerelease.join('.'),
        is_release: parsed.prerelease.length === 0 ? 1 : 0,
        digest: entry.digest,
        size: entry.size,
        description: entry.description,
        author: entry.author,
        license: entry.license,
        tags_json: JSON.stringify(entry.tags),
        manifest_json: entry.manifestJson,
        resources_json: JSON.stringify(entry.resources),
        dependencies_json: JSON.stringify(entry.dependencies),
        published_at: entry.publishedAt,
        published_by: entry.publishedBy,
      });
      this.refreshSearchRow(packageId, entry.name);
    })();
  }

  setYanked(name: string, version: string, yanked: boolean): PackageVersionMetadata | undefined {
    const row = this.findVersionStmt.get(name, version) as VersionRowDb | undefined;
    if (!row) return undefined;
    this.db.transaction(() => {
      this.setYankedStmt.run(yanked ? 1 : 0, row.id);
      this.refreshSearchRow(row.package_id, row.name);
    })();
    return this.findVersion(name, version);
  }

  addDownloads(name: string, version: string, count = 1): void {
    const row = this.findVersionStmt.get(name, version) as VersionRowDb | undefined;
    if (row) this.addDownloadsStmt.run(count, row.id);
  }

  /** Search ranks a package by its newest non-yanked version; a package with only yanked versions drops out. */
  private refreshSearchRow(packageId: number, name: string): void {
    this.deleteSearchStmt.run(packageId);
    const latest = this.latestUnyanked(name);
    if (!latest) return;
    this.insertSearchStmt.run(packageId, name.replace(/[/._-]/g, ' ') + ' ' + name, latest.description ?? '', latest.tags.join(' '));
  }

  latestUnyanked(name: string): PackageVersionMetadata | undefined {
    return this.versionsOf(name).find((version) => !version.yanked);
  }

  /**
   * Ranked search. Every term must match, each as a prefix (search as you type). bm25 ranking costs
   * time per match, so for terms that match nearly everything (> rankLimit packages) the name hits
   * come first, ranked, then the rest newest first; and totals are counted up to `countLimit`
   * (as search engines do), flagged by `totalCapped`.
   */
  search(query: string, page: number, perPage: number): { total: number; totalCapped: boolean; packages: PackageSummary[] } {
    const terms = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const offset = (page - 1) * perPage;
    if (terms.length === 0) {
      const total = (this.db.prepare('SELECT COUNT(*) AS total FROM package_search').get() as { total: number }).total;
      const rows = this.db.prepare('SELECT p.name FROM packages p WHERE p.id IN (SELECT rowid FROM package_search) ORDER BY p.name LIMIT ? OFFSET ?').all(perPage, offset) as Array<{ name: string }>;
      return { total, totalCapped: false, packages: this.summaries(rows.map((row) => row.name)) };
    }
    const match = terms.map((term) => `"${term}"*`).join(' ');
    const { total, capped } = this.countMatches(match);
    const exactName = query.trim().toLowerCase();
    if (total <= rankLimit) {
      return { total, totalCapped: capped, packages: this.summaries(this.rankedNames(match, exactName, perPage, offset)) };
    }
    const nameMatch = `{name} : (${match})`;
    const names = this.countMatches(nameMatch);
    const fromNames = names.total <= rankLimit ? this.rankedNames(nameMatch, exactName, perPage, offset) : this.newestNames(nameMatch, perPage, offset);
    const rest = fromNames.length < perPage ? this.newestNames(`(${match}) NOT (${nameMatch})`, perPage - fromNames.length, Math.max(0, offset - names.total)) : [];
    return { total, totalCapped: capped, packages: this.summaries([...fromNames, ...rest]) };
  }

  private countMatches(match: string): { total: number; capped: boolean } {
    const row = this.db.prepare('SELECT COUNT(*) AS total FROM (SELECT 1 FROM package_search WHERE package_search MATCH ? LIMIT ?)').get(match, countLimit + 1) as { total: number };
    return row.total > countLimit ? { total: countLimit, capped: true } : { total: row.total, capped: false };
  }

  private rankedNames(match: string, exactName: string, limit: number, offset: number): string[] {
    const rows = this.db
      .prepare(`SELECT p.name FROM package_search s JOIN packages p ON p.id = s.rowid WHERE package_search MATCH ?
        ORDER BY (p.name = ?) DESC, s.rank LIMIT ? OFFSET ?`)
      .all(match, exactName, limit, offset) as Array<{ name: string }>;
    return rows.map((row) => row.name);
  }

  private newestNames(match: string, limit: number, offset: number): string[] {
    const rows = this.db
      .prepare(`SELECT p.name FROM package_search s JOIN packages p ON p.id = s.rowid WHERE package_search MATCH ? ORDER BY s.rowid DESC LIMIT ? OFFSET ?`)
      .all(match, limit, offset) as Array<{ name: string }>;
    return rows.map((row) => row.name);
  }

  private summaries(names: string[]): PackageSummary[] {
    return names.flatMap((name) => {
      const versions = this.versionsOf(name);
      const latest = versions.find((version) => !version.yanked);
      if (!latest) return [];
      return [
        {
          name,
          version: latest.version,
          description: latest.description,
          author: latest.author,
          license: latest.license,
          tags: latest.tags,
          size: latest.size,
          digest: latest.digest,
          published_at: latest.published_at,
          downloads: versions.reduce((sum, version) => sum + version.downloads, 0),
        },
      ];
    });
  }

  /** Every version, for the virtualized Packages list. */
  listVersionRows(offset: number, limit: number): { total: number; rows: VersionRow[] } {
    const total = (this.countVersionsStmt.get() as { total: number }).total;
    const rows = (this.listRowsStmt.all(limit, offset) as Array<Omit<VersionRow, 'yanked'> & { yanked: number }>).map((row) => ({ ...row, yanked: row.yanked === 1 }));
    return { total, rows };
  }

  /** Digests still referenced by some version (blob garbage collection keeps these). */
  isDigestReferenced(digestHex: string): boolean {
    return this.db.prepare('SELECT 1 FROM package_versions WHERE digest = ? LIMIT 1').get(`sha256:${digestHex}`) !== undefined;
  }
}

function toMetadata(row: VersionRowDb): PackageVersionMetadata {
  return {
    name: row.name,
    version: row.version,
    description: row.description,
    author: row.author,
    license: row.license,
    tags: JSON.parse(row.tags_json) as string[],
    size: row.size,
    digest: row.digest,
    published_at: row.published_at,
    downloads: row.downloads,
    yanked: row.yanked === 1,
    resources: JSON.parse(row.resources_json) as PackageVersionMetadata['resources'],
    dependencies: JSON.parse(row.dependencies_json) as Record<string, string>,
  };
}
