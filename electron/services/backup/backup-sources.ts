import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DepotError } from '../../../shared/errors';
import type { BackupSourceFile } from './backup-runner';

/** Files and folders given by the user; folders are walked (symlinks are not followed). */
export async function collectPaths(paths: string[]): Promise<BackupSourceFile[]> {
  const files: BackupSourceFile[] = [];
  for (const given of paths) {
    const absolute = path.resolve(given);
    const stat = await fsp.lstat(absolute).catch(() => null);
    if (!stat) throw new DepotError('NOT_FOUND', `${given} does not exist.`, { reason: 'no-such-path' });
    if (stat.isFile()) files.push({ path: path.basename(absolute), absolutePath: absolute });
    else if (stat.isDirectory()) files.push(...(await walk(absolute, path.basename(absolute), () => false)));
    else throw new DepotError('VALIDATION_FAILED', `${given} is neither a file nor a folder.`, { reason: 'not-a-file' });
  }
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) throw new DepotError('VALIDATION_FAILED', `Two sources would both be stored as ${file.path}.`, { reason: 'duplicate-path' });
    seen.add(file.path);
  }
  return files;
}

async function walk(dir: string, prefix: string, skip: (relative: string) => boolean): Promise<BackupSourceFile[]> {
  const found: BackupSourceFile[] = [];
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (skip(relative)) continue;
    const absolute = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(absolute, relative, skip)));
    else if (entry.isFile()) found.push({ path: relative, absolutePath: absolute });
  }
  return found;
}

export const registryDatabaseName = 'torsh-depot.sqlite';
/** Never backed up: temp files, the cache (rebuilt on demand), the lock of the running host, the live database files. */
const registrySkipped = new Set(['tmp', 'cache', 'torsh-depot.lock', registryDatabaseName, `${registryDatabaseName}-wal`, `${registryDatabaseName}-shm`, `${registryDatabaseName}-journal`]);

export interface RegistrySource {
  files: BackupSourceFile[];
  /** Removes the database copy. */
  cleanup(): Promise<void>;
}

/**
 * A whole registry: every file of its data folder (blobs, signatures, settings, secrets) and a
 * consistent copy of the SQLite database made with SQLite's online backup API, so a running host
 * can keep serving (and writing) while it is taken.
 */
export async function snapshotRegistry(dataDir: string, scratchDir: string): Promise<RegistrySource> {
  const databaseFile = path.join(dataDir, registryDatabaseName);
  if (!(await fsp.stat(databaseFile).catch(() => null))?.isFile()) throw new DepotError('NOT_FOUND', `${dataDir} is not a torsh-depot data folder (no ${registryDatabaseName}).`, { reason: 'no-data-folder' });
  await fsp.mkdir(scratchDir, { recursive: true });
  const copy = path.join(scratchDir, `db-${randomBytes(6).toString('hex')}.sqlite`);
  const db = new BetterSqlite3(databaseFile, { readonly: true, fileMustExist: true });
  try {
    await db.backup(copy);
  } finally {
    db.close();
  }
  const files = await walk(dataDir, '', (relative) => registrySkipped.has(relative));
  files.push({ path: registryDatabaseName, absolutePath: copy });
  return { files, cleanup: () => fsp.rm(copy, { force: true }) };
}

export interface VersionSource {
  files: BackupSourceFile[];
  cleanup(): Promise<void>;
}

/** What `<name>-<version>.registry.json` holds next to the package file in a snapshot. */
export interface VersionRecordFile {
  name: string;
  version: string;
  record: Record<string, unknown>;
  signatures: Array<{ key_id: string; signature: string; blake2b512: string | null; signed_at: string | null; uploaded_at: string; uploaded_by: string | null }>;
  /** The package's visibility when the snapshot was taken (absent in snapshots made before sets). */
  visibility?: string;
}

export function versionFileBase(name: string, version: string): string {
  return `${name.replace('/', '__')}-${version}`;
}

/**
 * One package version of a data folder: its package file and its registry record (metadata,
 * yank state, signatures, visibility) as JSON, so it can be brought back with its metadata.
 */
export async function snapshotVersion(dataDir: string, name: string, version: string, scratchDir: string): Promise<VersionSource> {
  return snapshotVersions(dataDir, [{ name, version }], scratchDir);
}

/** Several versions (a set): the package files and one record file per version. */
export async function snapshotVersions(dataDir: string, versions: Array<{ name: string; version: string }>, scratchDir: string): Promise<VersionSource> {
  const databaseFile = path.join(dataDir, registryDatabaseName);
  if (!(await fsp.stat(databaseFile).catch(() => null))?.isFile()) throw new DepotError('NOT_FOUND', `${dataDir} is not a torsh-depot data folder (no ${registryDatabaseName}).`, { reason: 'no-data-folder' });
  const db = new BetterSqlite3(databaseFile, { readonly: true, fileMustExist: true });
  const records: VersionRecordFile[] = [];
  try {
    const hasVisibility = (db.prepare(`SELECT COUNT(*) AS n FROM pragma_table_info('packages') WHERE name = 'visibility'`).get() as { n: number }).n > 0;
    for (const { name, version } of versions) {
      const record = db.prepare('SELECT * FROM package_versions WHERE package_name = ? AND version = ?').get(name, version) as Record<string, unknown> | undefined;
      if (!record) throw new DepotError('NOT_FOUND', `${name}@${version} is not in the registry at ${dataDir}.`, { reason: 'no-such-version' });
      const signatures = db.prepare('SELECT key_id, signature, blake2b512, signed_at, uploaded_at, uploaded_by FROM package_signatures WHERE version_id = ?').all(record.id) as VersionRecordFile['signatures'];
      const visibility = hasVisibility ? (db.prepare('SELECT visibility FROM packages WHERE name = ?').get(name) as { visibility: string } | undefined)?.visibility : undefined;
      records.push({ name, version, record, signatures, ...(visibility ? { visibility } : {}) });
    }
  } finally {
    db.close();
  }
  await fsp.mkdir(scratchDir, { recursive: true });
  const files: BackupSourceFile[] = [];
  const written: string[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(written.map((file) => fsp.rm(file, { force: true })));
  };
  try {
    for (const entry of records) {
      const digest = String(entry.record.digest).replace(/^sha256:/, '');
      const blob = path.join(dataDir, 'blobs', 'sha256', digest);
      if (!(await fsp.stat(blob).catch(() => null))?.isFile()) throw new DepotError('NOT_FOUND', `The package file of ${entry.name}@${entry.version} is not in ${dataDir} (is the blob store remote?).`, { reason: 'no-blob' });
      const metadataFile = path.join(scratchDir, `version-${randomBytes(6).toString('hex')}.json`);
      await fsp.writeFile(metadataFile, JSON.stringify(entry, null, 2));
      written.push(metadataFile);
      const base = versionFileBase(entry.name, entry.version);
      files.push({ path: `${base}.torshpkg`, absolutePath: blob }, { path: `${base}.registry.json`, absolutePath: metadataFile });
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { files, cleanup };
}
