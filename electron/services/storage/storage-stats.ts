import type { Database } from 'better-sqlite3';
import type { StorageStats } from '../../../shared/domain/storage';

export type StorageOperation = 'get' | 'put' | 'delete' | 'other';

export interface StorageCallRecord {
  operation: StorageOperation;
  latencyMs: number;
  bytesRead?: number;
  bytesWritten?: number;
  error?: string;
  retries?: number;
}

/** Per-backend counters in SQLite, so the Storage screen shows them across restarts. */
export class StorageStatsRepository {
  constructor(private readonly db: Database) {}

  record(backendId: string, call: StorageCallRecord): void {
    // A call can settle after the core closed the database (shutdown): its statistics are dropped.
    if (!this.db.open) return;
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO storage_stats (backend_id, gets, puts, deletes, other_calls, bytes_read, bytes_written, errors, retries, latency_ms_total, calls, last_error, last_error_at, updated_at)
         VALUES (@id, @gets, @puts, @deletes, @other, @read, @written, @errors, @retries, @latency, 1, @error, @errorAt, @now)
         ON CONFLICT (backend_id) DO UPDATE SET
           gets = gets + @gets, puts = puts + @puts, deletes = deletes + @deletes, other_calls = other_calls + @other,
           bytes_read = bytes_read + @read, bytes_written = bytes_written + @written, errors = errors + @errors, retries = retries + @retries,
           latency_ms_total = latency_ms_total + @latency, calls = calls + 1,
           last_error = COALESCE(@error, last_error), last_error_at = COALESCE(@errorAt, last_error_at), updated_at = @now`,
      )
      .run({
        id: backendId,
        gets: call.operation === 'get' ? 1 : 0,
        puts: call.operation === 'put' ? 1 : 0,
        deletes: call.operation === 'delete' ? 1 : 0,
        other: call.operation === 'other' ? 1 : 0,
        read: call.bytesRead ?? 0,
        written: call.bytesWritten ?? 0,
        errors: call.error === undefined ? 0 : 1,
        retries: call.retries ?? 0,
        latency: call.latencyMs,
        error: call.error?.slice(0, 1000) ?? null,
        errorAt: call.error === undefined ? null : now,
        now,
      });
  }

  /** Bytes read from a stream are known only when it ends. */
  addBytesRead(backendId: string, bytes: number): void {
    // A read stream may end after the core closed the database (shutdown): its count is dropped.
    if (!this.db.open) return;
    this.db.prepare('UPDATE storage_stats SET bytes_read = bytes_read + ? WHERE backend_id = ?').run(bytes, backendId);
  }

  all(): StorageStats[] {
    const rows = this.db.prepare('SELECT * FROM storage_stats ORDER BY backend_id').all() as Array<{
      backend_id: string;
      gets: number;
      puts: number;
      deletes: number;
      other_calls: number;
      bytes_read: number;
      bytes_written: number;
      errors: number;
      retries: number;
      latency_ms_total: number;
      calls: number;
      last_error: string | null;
      last_error_at: string | null;
    }>;
    return rows.map((row) => ({
      backendId: row.backend_id,
      gets: row.gets,
      puts: row.puts,
      deletes: row.deletes,
      otherCalls: row.other_calls,
      bytesRead: row.bytes_read,
      bytesWritten: row.bytes_written,
      errors: row.errors,
      retries: row.retries,
      calls: row.calls,
      averageLatencyMs: row.calls > 0 ? Math.round((row.latency_ms_total / row.calls) * 10) / 10 : null,
      lastError: row.last_error,
      lastErrorAt: row.last_error_at,
    }));
  }
}
