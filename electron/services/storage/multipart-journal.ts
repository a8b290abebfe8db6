import type { Database } from 'better-sqlite3';

export interface JournalUpload {
  row: number;
  uploadId: string;
  sourceSize: number;
  sourceMtimeMs: number;
  partSize: number;
}

export interface JournalPart {
  partNumber: number;
  etag: string;
  size: number;
}

/**
 * Multipart uploads in progress, in SQLite: after a crash or restart the same file resumes with
 * the parts the store already has instead of starting over. `store` names the bucket + endpoint.
 */
export class MultipartJournal {
  constructor(private readonly db: Database) {}

  find(store: string, key: string, sourcePath: string): JournalUpload | null {
    const row = this.db
      .prepare('SELECT id, upload_id, source_size, source_mtime_ms, part_size FROM storage_multipart_uploads WHERE store = ? AND object_key = ? AND source_path = ?')
      .get(store, key, sourcePath) as { id: number; upload_id: string; source_size: number; source_mtime_ms: number; part_size: number } | undefined;
    return row ? { row: row.id, uploadId: row.upload_id, sourceSize: row.source_size, sourceMtimeMs: row.source_mtime_ms, partSize: row.part_size } : null;
  }

  begin(store: string, key: string, source: { path: string; size: number; mtimeMs: number }, uploadId: string, partSize: number): JournalUpload {
    const result = this.db
      .prepare(`INSERT INTO storage_multipart_uploads (store, object_key, upload_id, source_path, source_size, source_mtime_ms, part_size, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(store, key, uploadId, source.path, source.size, Math.floor(source.mtimeMs), partSize, new Date().toISOString());
    return { row: Number(result.lastInsertRowid), uploadId, sourceSize: source.size, sourceMtimeMs: Math.floor(source.mtimeMs), partSize };
  }

  parts(row: number): JournalPart[] {
    return (this.db.prepare('SELECT part_number, etag, size FROM storage_multipart_parts WHERE upload_row = ? ORDER BY part_number').all(row) as Array<{ part_number: number; etag: string; size: number }>).map(
      (part) => ({ partNumber: part.part_number, etag: part.etag, size: part.size }),
    );
  }

  recordPart(row: number, part: JournalPart): void {
    this.db.prepare('INSERT OR REPLACE INTO storage_multipart_parts (upload_row, part_number, etag, size) VALUES (?, ?, ?, ?)').run(row, part.partNumber, part.etag, part.size);
  }

  /** The upload completed or was aborted: forget it (its parts go with it). */
  finish(row: number): void {
    this.db.prepare('DELETE FROM storage_multipart_uploads WHERE id = ?').run(row);
  }

  /** Every upload of a store still in the journal (to abort those whose source file is gone). */
  uploadsOf(store: string): Array<{ row: number; key: string; uploadId: string; sourcePath: string }> {
    return (this.db.prepare('SELECT id, object_key, upload_id, source_path FROM storage_multipart_uploads WHERE store = ?').all(store) as Array<{
      id: number;
      object_key: string;
      upload_id: string;
      source_path: string;
    }>).map((row) => ({ row: row.id, key: row.object_key, uploadId: row.upload_id, sourcePath: row.source_path }));
  }
}
