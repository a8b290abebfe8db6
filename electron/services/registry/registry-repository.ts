import type { Database } from 'better-sqlite3';
import semver from 'semver';
import type { PackageSummary, PackageVersionMetadata, VersionRow } from '../../../shared/domain/registry';
import type { VersionEncryption } from '../../../shared/domain/encryption';

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
  encryption_json: string | null;
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
  /** Set when the stored blob is ciphertext (digest and size are the ciphertext's). */
  encryption?: VersionEncryption | null;
}

/**
 * Which packages a search may list (access control): public ones, internal ones when `internal`, and
 * the private ones in `privateIds`. Absent means every package.
 */
export interface PackageFilter {
  internal: boolean;
  privateIds: number[];
}

/** The statements one search runs, unrestricted or bound to a PackageFilter. */
interface SearchQueries {
  countListed(): number;
  browse(limit: number, offset: number): SummaryRowDb[];
  countMatches(match: string, limit: number): number;
  ranked(match: string, exact: string, limit: number, offset: number): SummaryRowDb[];
  newest(match: string, limit: number, offset: number): SummaryRowDb[];
}

const visibleCondition = `(p.visibility = 'public' OR (@internal = 1 AND p.visibility = 'internal') OR p.id IN (SELECT value FROM json_each(@private)))`;
/** Up to this many hidden packages, search excludes them by id (FTS alone); beyond, it joins packages per match. */
const excludeLimit = 1_000;
const notHidden = (column: string): string => `${column} NOT IN (SELECT value FROM json_each(@hidden))`;

/** Above this many matches, ranking every one costs more than a search may take. */
const rankLimit = 5_000;
/** Totals are exact up to here. */
const countLimit = 10_000;

const versionColumns = `v.id, v.package_id, p.name, v.version, v.digest, v.size, v.description, v.author, v.license, v.tags_json,
  v.resources_json, v.dependencies_json, v.published_at, v.downloads, v.yanked, v.encryption_json`;

/** A package's newest non-yanked version and its total downloads, kept on its row (migration 5). */
const summaryColumns = `p.name, p.latest_version, p.latest_description, p.latest_author, p.latest_license, p.latest_tags_json, p.latest_size,
  p.latest_digest, p.latest_published_at, p.downloads, p.latest_encryption_json`;

interface SummaryRowDb {
  name: string;
  latest_version: string | null;
  latest_description: string | null;
  latest_author: string | null;
  latest_license: string | null;
  latest_tags_json: string;
  latest_size: number | null;
  latest_digest: string | null;
  latest_published_at: string | null;
  downloads: number;
  latest_encryption_json: string | null;
}

interface SummarySourceRowDb {
  version: string;
  description: string | null;
  author: string | null;
  license: string | null;
  tags_json: string;
  size: number;
  digest: string;
  published_at: string;
  downloads: number;
  yanked: number;
  encryption_json: string | null;
}

/**
 * All SQL of the registry: packages, versions and the FTS5 search index. Every statement is prepared
 * once; a search runs two or three of them whatever the page size.
 */
export class RegistryRepository {
  private readonly findVersionStmt;
  private readonly versionsOfStmt;
  private readonly versionIdStmt;
  private readonly packageIdStmt;
  private readonly insertPackageStmt;
  private readonly insertVersionStmt;
  private readonly setYankedStmt;
  private readonly addDownloadsStmt;
  private readonly addPackageDownloadsStmt;
  private readonly summarySourceStmt;
  private readonly updateSummaryStmt;
  private readonly deleteSearchStmt;
  private readonly insertSearchStmt;
  private readonly countListedStmt;
  private readonly browseStmt;
  private readonly countMatchesStmt;
  private readonly rankedStmt;
  private readonly newestStmt;
  private readonly listRowsStmt;
  private readonly countVersionsStmt;
  private readonly digestReferencedStmt;
  private readonly unrestricted: SearchQueries;
  private readonly filteredStmts;
  private readonly excludingStmts;
  private readonly hiddenStmt;

  /** `excludeLimit`: see queriesFor (tests lower it to exercise both filtered strategies). */
  constructor(
    private readonly db: Database,
    private readonly options: { excludeLimit?: number } = {},
  ) {
    this.findVersionStmt = db.prepare(`SELECT ${versionColumns} FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? AND v.version = ?`);
    this.versionsOfStmt = db.prepare(`SELECT ${versionColumns} FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ?`);
    this.versionIdStmt = db.prepare('SELECT v.id, v.package_id FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? AND v.version = ?');
    this.packageIdStmt = db.prepare('SELECT id FROM packages WHERE name = ?');
    this.insertPackageStmt = db.prepare('INSERT INTO packages (name, created_at) VALUES (?, ?)');
    this.insertVersionStmt = db.prepare(`INSERT INTO package_versions (package_id, package_name, version, major, minor, patch, prerelease, is_release, digest, size,
      description, author, license, tags_json, manifest_json, resources_json, dependencies_json, published_at, published_by, encryption_json)
      VALUES (@package_id, @package_name, @version, @major, @minor, @patch, @prerelease, @is_release, @digest, @size, @description, @author, @license, @tags_json,
      @manifest_json, @resources_json, @dependencies_json, @published_at, @published_by, @encryption_json)`);
    this.setYankedStmt = db.prepare(`UPDATE package_versions SET yanked = ? WHERE id = ?`);
    this.addDownloadsStmt = db.prepare('UPDATE package_versions SET downloads = downloads + ? WHERE id = ?');
    this.addPackageDownloadsStmt = db.prepare('UPDATE packages SET downloads = downloads + ? WHERE id = ?');
    // Only what a summary needs: no manifest or resources to read and parse.
    this.summarySourceStmt = db.prepare(`SELECT version, description, author, license, tags_json, size, digest, published_at, downloads, yanked, encryption_json
      FROM package_versions WHERE package_id = ?`);
    this.updateSummaryStmt = db.prepare(`UPDATE packages SET latest_version = ?, latest_description = ?, latest_author = ?, latest_license = ?,
      latest_tags_json = ?, latest_size = ?, latest_digest = ?, latest_published_at = ?, downloads = ?, latest_encryption_json = ? WHERE id = ?`);
    this.deleteSearchStmt = db.prepare('DELETE FROM package_search WHERE rowid = ?');
    this.insertSearchStmt = db.prepare('INSERT INTO package_search (rowid, name, description, tags) VALUES (?, ?, ?, ?)');
    // Listed = has a non-yanked version = has a search row; the partial index holds exactly those.
    this.countListedStmt = db.prepare('SELECT COUNT(*) AS total FROM packages WHERE latest_version IS NOT NULL');
    this.browseStmt = db.prepare(`SELECT ${summaryColumns}
      FROM (SELECT id, name FROM packages WHERE latest_version IS NOT NULL ORDER BY name LIMIT ? OFFSET ?) page
      CROSS JOIN packages p ON p.id = page.id
      ORDER BY page.name`);
    this.countMatchesStmt = db.prepare('SELECT COUNT(*) AS total FROM (SELECT 1 FROM package_search WHERE package_search MATCH ? LIMIT ?)');
    // The exact name first, then bm25. Comparing rowids (not names) spares a packages lookup per match;
    // the rowid tie-break keeps pages from overlapping when ranks are equal.
    this.rankedStmt = db.prepare(`SELECT ${summaryColumns}
      FROM (SELECT rowid AS id, rowid = (SELECT id FROM packages WHERE name = @exact) AS exact, rank FROM package_search
        WHERE package_search MATCH @match ORDER BY exact DESC, rank, rowid DESC LIMIT @limit OFFSET @offset) hit
      CROSS JOIN packages p ON p.id = hit.id
      ORDER BY hit.exact DESC, hit.rank, hit.id DESC`);
    this.newestStmt = db.prepare(`SELECT ${summaryColumns}
      FROM (SELECT rowid AS id FROM package_search WHERE package_search MATCH ? ORDER BY rowid DESC LIMIT ? OFFSET ?) hit
      CROSS JOIN packages p ON p.id = hit.id
      ORDER BY hit.id DESC`);
    // Page through the covering index first, then fetch only the rows shown. CROSS JOIN pins the page as
    // the outer loop, and ordering by the page's own columns lets SQLite keep the index order: with a
    // plain JOIN ordered by v's columns the planner walked all of v's index to skip the sort (3-10 ms).
    this.listRowsStmt = db.prepare(`SELECT v.package_name AS name, v.version, v.description, v.size, v.downloads, v.yanked, v.published_at, v.encryption_json
      FROM (SELECT id, package_name, major, minor, patch, is_release, prerelease FROM package_versions
        ORDER BY package_name, major DESC, minor DESC, patch DESC, is_release DESC, prerelease DESC LIMIT ? OFFSET ?) page
      CROSS JOIN package_versions v ON v.id = page.id
      ORDER BY page.package_name, page.major DESC, page.minor DESC, page.patch DESC, page.is_release DESC, page.prerelease DESC`);
    this.countVersionsStmt = db.prepare('SELECT COUNT(*) AS total FROM package_versions');
    this.digestReferencedStmt = db.prepare('SELECT 1 FROM package_versions WHERE digest = ? LIMIT 1');
    this.unrestricted = {
      countListed: () => (this.countListedStmt.get() as { total: number }).total,
      browse: (limit, offset) => this.browseStmt.all(limit, offset) as SummaryRowDb[],
      countMatches: (match, limit) => (this.countMatchesStmt.get(match, limit) as { total: number }).total,
      ranked: (match, exact, limit, offset) => this.rankedStmt.all({ match, exact, limit, offset }) as SummaryRowDb[],
      newest: (match, limit, offset) => this.newestStmt.all(match, limit, offset) as SummaryRowDb[],
    };
    // The same queries restricted to what one caller may see (a join on packages per match).
    this.filteredStmts = {
      countListed: db.prepare(`SELECT COUNT(*) AS total FROM packages p WHERE p.latest_version IS NOT NULL AND ${visibleCondition}`),
      browse: db.prepare(`SELECT ${summaryColumns}
        FROM (SELECT p.id, p.name FROM packages p WHERE p.latest_version IS NOT NULL AND ${visibleCondition} ORDER BY p.name LIMIT @limit OFFSET @offset) page
        CROSS JOIN packages p ON p.id = page.id
        ORDER BY page.name`),
      countMatches: db.prepare(`SELECT COUNT(*) AS total FROM (SELECT 1 FROM package_search JOIN packages p ON p.id = package_search.rowid
        WHERE package_search MATCH @match AND ${visibleCondition} LIMIT @limit)`),
      ranked: db.prepare(`SELECT ${summaryColumns}
        FROM (SELECT package_search.rowid AS id, package_search.rowid = (SELECT id FROM packages WHERE name = @exact) AS exact, package_search.rank AS rank
          FROM package_search JOIN packages p ON p.id = package_search.rowid
          WHERE package_search MATCH @match AND ${visibleCondition} ORDER BY exact DESC, rank, id DESC LIMIT @limit OFFSET @offset) hit
        CROSS JOIN packages p ON p.id = hit.id
        ORDER BY hit.exact DESC, hit.rank, hit.id DESC`),
      newest: db.prepare(`SELECT ${summaryColumns}
        FROM (SELECT package_search.rowid AS id FROM package_search JOIN packages p ON p.id = package_search.rowid
          WHERE package_search MATCH @match AND ${visibleCondition} ORDER BY package_search.rowid DESC LIMIT @limit OFFSET @offset) hit
        CROSS JOIN packages p ON p.id = hit.id
        ORDER BY hit.id DESC`),
    };
    this.hiddenStmt = db.prepare(`SELECT p.id FROM packages p WHERE p.visibility IN ('internal', 'private') AND NOT ${visibleCondition} LIMIT @limit`);
    this.excludingStmts = {
      countListed: db.prepare(`SELECT (SELECT COUNT(*) FROM packages WHERE latest_version IS NOT NULL)
        - (SELECT COUNT(*) FROM packages WHERE latest_version IS NOT NULL AND id IN (SELECT value FROM json_each(@hidden))) AS total`),
      browse: db.prepare(`SELECT ${summaryColumns}
        FROM (SELECT id, name FROM packages WHERE latest_version IS NOT NULL AND ${notHidden('id')} ORDER BY name LIMIT @limit OFFSET @offset) page
        CROSS JOIN packages p ON p.id = page.id
        ORDER BY page.name`),
      countMatches: db.prepare(`SELECT COUNT(*) AS total FROM (SELECT 1 FROM package_search WHERE package_search MATCH @match AND ${notHidden('rowid')} LIMIT @limit)`),
      ranked: db.prepare(`SELECT ${summaryColumns}
        FROM (SELECT rowid AS id, rowid = (SELECT id FROM packages WHERE name = @exact) AS exact, rank FROM package_search
          WHERE package_search MATCH @match AND ${notHidden('rowid')} ORDER BY exact DESC, rank, rowid DESC LIMIT @limit OFFSET @offset) hit
        CROSS JOIN packages p ON p.id = hit.id
        ORDER BY hit.exact DESC, hit.rank, hit.id DESC`),
      newest: db.prepare(`SELECT ${summaryColumns}
        FROM (SELECT rowid AS id FROM package_search WHERE package_search MATCH @match AND ${notHidden('rowid')} ORDER BY rowid DESC LIMIT @limit OFFSET @offset) hit
        CROSS JOIN packages p ON p.id = hit.id
        ORDER BY hit.id DESC`),
    };
  }

  /**
   * Most callers are hidden from few packages (a handful of private ones), often none: then search
   * runs unrestricted, or excludes those ids inside FTS5. Only when many are hidden (anonymous on an
   * internal registry) does it join every match with its package row to check visibility.
   */
  private queriesFor(filter: PackageFilter | undefined): SearchQueries {
    if (!filter) return this.unrestricted;
    const bound = { internal: filter.internal ? 1 : 0, private: JSON.stringify(filter.privateIds) };
    const limit = this.options.excludeLimit ?? excludeLimit;
    const hidden = (this.hiddenStmt.all({ ...bound, limit: limit + 1 }) as Array<{ id: number }>).map((row) => row.id);
    if (hidden.length === 0) return this.unrestricted;
    if (hidden.length <= limit) {
      const excluded = { hidden: JSON.stringify(hidden) };
      const statements = this.excludingStmts;
      return {
        countListed: () => (statements.countListed.get(excluded) as { total: number }).total,
        browse: (limit, offset) => statements.browse.all({ ...excluded, limit, offset }) as SummaryRowDb[],
        countMatches: (match, limit) => (statements.countMatches.get({ ...excluded, match, limit }) as { total: number }).total,
        ranked: (match, exact, limit, offset) => statements.ranked.all({ ...excluded, match, exact, limit, offset }) as SummaryRowDb[],
        newest: (match, limit, offset) => statements.newest.all({ ...excluded, match, limit, offset }) as SummaryRowDb[],
      };
    }
    const statements = this.filteredStmts;
    return {
      countListed: () => (statements.countListed.get(bound) as { total: number }).total,
      browse: (limit, offset) => statements.browse.all({ ...bound, limit, offset }) as SummaryRowDb[],
      countMatches: (match, limit) => (statements.countMatches.get({ ...bound, match, limit }) as { total: number }).total,
      ranked: (match, exact, limit, offset) => statements.ranked.all({ ...bound, match, exact, limit, offset }) as SummaryRowDb[],
      newest: (match, limit, offset) => statements.newest.all({ ...bound, match, limit, offset }) as SummaryRowDb[],
    };
  }

  hasPackage(name: string): boolean {
    return this.packageIdStmt.get(name) !== undefined;
  }

  findVersion(name: string, version: string): PackageVersionMetadata | undefined {
    const row = this.findVersionStmt.get(name, version) as VersionRowDb | undefined;
    return row && toMetadata(row);
  }

  /** Versions of a package, newest first by semver precedence. */
  versionsOf(name: string): PackageVersionMetadata[] {
    return (this.versionsOfStmt.all(name) as VersionRowDb[]).map(toMetadata).sort((a, b) => semver.rcompare(a.version, b.version));
  }

  /** Inserts the version and refreshes the package's summary and search row in one transaction: visible all at once or not at all. */
  insertVersion(entry: NewVersion, onNewPackage?: () => void, beforeInsert?: () => void): void {
    const parsed = semver.parse(entry.version);
    if (!parsed) throw new Error(`insertVersion got an unchecked version ${entry.version}`);
    this.db.transaction(() => {
      beforeInsert?.();
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
        encryption_json: entry.encryption ? JSON.stringify(entry.encryption) : null,
      });
      this.refreshPackage(packageId, entry.name);
      // In the same transaction: a new package is never visible before its visibility and owner are set.
      if (!existing) onNewPackage?.();
    })();
  }

  setYanked(name: string, version: string, yanked: boolean): PackageVersionMetadata | undefined {
    const row = this.versionIdStmt.get(name, version) as { id: number; package_id: number } | undefined;
    if (!row) return undefined;
    this.db.transaction(() => {
      this.setYankedStmt.run(yanked ? 1 : 0, row.id);
      this.refreshPackage(row.package_id, name);
    })();
    return this.findVersion(name, version);
  }

  addDownloads(name: string, version: string, count = 1): void {
    const row = this.versionIdStmt.get(name, version) as { id: number; package_id: number } | undefined;
    if (!row) return;
    this.db.transaction(() => {
      this.addDownloadsStmt.run(count, row.id);
      this.addPackageDownloadsStmt.run(count, row.package_id);
    })();
  }

  /**
   * Recomputes the package's summary (newest non-yanked version, total downloads) and its search row:
   * search ranks a package by that version; a package with only yanked versions drops out.
   */
  private refreshPackage(packageId: number, name: string): void {
    const versions = this.summarySourceStmt.all(packageId) as SummarySourceRowDb[];
    const downloads = versions.reduce((sum, version) => sum + version.downloads, 0);
    const latest = versions.filter((version) => version.yanked === 0).sort((a, b) => semver.rcompare(a.version, b.version))[0];
    this.updateSummaryStmt.run(
      latest?.version ?? null,
      latest?.description ?? null,
      latest?.author ?? null,
      latest?.license ?? null,
      latest?.tags_json ?? '[]',
      latest?.size ?? null,
      latest?.digest ?? null,
      latest?.published_at ?? null,
      downloads,
      latest?.encryption_json ?? null,
      packageId,
    );
    this.deleteSearchStmt.run(packageId);
    if (!latest) return;
    const tags = JSON.parse(latest.tags_json) as string[];
    this.insertSearchStmt.run(packageId, name.replace(/[/._-]/g, ' ') + ' ' + name, latest.description ?? '', tags.join(' '));
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
  search(query: string, page: number, perPage: number, filter?: PackageFilter): { total: number; totalCapped: boolean; packages: PackageSummary[] } {
    const queries = this.queriesFor(filter);
    const terms = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const offset = (page - 1) * perPage;
    if (terms.length === 0) {
      return { total: queries.countListed(), totalCapped: false, packages: toSummaries(queries.browse(perPage, offset)) };
    }
    const match = terms.map((term) => `"${term}"*`).join(' ');
    const { total, capped } = this.countMatches(queries, match);
    const exactName = query.trim().toLowerCase();
    if (total <= rankLimit) {
      return { total, totalCapped: capped, packages: toSummaries(queries.ranked(match, exactName, perPage, offset)) };
    }
    const nameMatch = `{name} : (${match})`;
    const names = this.countMatches(queries, nameMatch);
    // Nothing to fetch past the last name hit (common: a description word in no name).
    const namesLeft = names.capped || offset < names.total;
    const fromNames = !namesLeft ? [] : names.total <= rankLimit ? queries.ranked(nameMatch, exactName, perPage, offset) : queries.newest(nameMatch, perPage, offset);
    const rest = fromNames.length < perPage ? queries.newest(`(${match}) NOT (${nameMatch})`, perPage - fromNames.length, Math.max(0, offset - names.total)) : [];
    return { total, totalCapped: capped, packages: toSummaries([...fromNames, ...rest]) };
  }

  private countMatches(queries: SearchQueries, match: string): { total: number; capped: boolean } {
    const total = queries.countMatches(match, countLimit + 1);
    return total > countLimit ? { total: countLimit, capped: true } : { total, capped: false };
  }

  /** Every version, for the virtualized Packages list. */
  listVersionRows(offset: number, limit: number): { total: number; rows: VersionRow[] } {
    const total = (this.countVersionsStmt.get() as { total: number }).total;
    const rows = (this.listRowsStmt.all(limit, offset) as Array<Omit<VersionRow, 'yanked' | 'encryption'> & { yanked: number; encryption_json: string | null }>).map(
      ({ encryption_json, ...row }) => ({ ...row, yanked: row.yanked === 1, encryption: parseEncryption(encryption_json) }),
    );
    return { total, rows };
  }

  /** Digests still referenced by some version (blob garbage collection keeps these). */
  isDigestReferenced(digestHex: string): boolean {
    return this.digestReferencedStmt.get(`sha256:${digestHex}`) !== undefined;
  }
}

function toSummaries(rows: SummaryRowDb[]): PackageSummary[] {
  return rows.flatMap((row) => {
    if (row.latest_version === null || row.latest_size === null || row.latest_digest === null || row.latest_published_at === null) return [];
    return [
      {
        name: row.name,
        version: row.latest_version,
        description: row.latest_description,
        author: row.latest_author,
        license: row.latest_license,
        tags: JSON.parse(row.latest_tags_json) as string[],
        size: row.latest_size,
        digest: row.latest_digest,
        published_at: row.latest_published_at,
        downloads: row.downloads,
        encryption: parseEncryption(row.latest_encryption_json),
      },
    ];
  });
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
    encryption: parseEncryption(row.encryption_json),
  };
}

function parseEncryption(json: string | null): VersionEncryption | null {
  return json === null ? null : (JSON.parse(json) as VersionEncryption);
}
