import type { Database } from 'better-sqlite3';
import { errorEnvelopeSchema, type ErrorEnvelope } from '../../../shared/errors';
import type { JobRecord, JobStatus } from '../../../shared/domain/jobs';

interface JobRow {
  id: string;
  kind: string;
  title: string;
  status: JobStatus;
  progress: number | null;
  message: string | null;
  params_json: string;
  result_json: string | null;
  error_json: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** All SQL of the jobs domain. */
export class JobRepository {
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly listByStatusStmt;

  constructor(private readonly db: Database) {
    this.insertStmt = db.prepare(`INSERT INTO jobs (id, kind, title, status, progress, message, params_json, created_at)
      VALUES (@id, @kind, @title, @status, @progress, @message, @params_json, @created_at)`);
    this.updateStmt = db.prepare(`UPDATE jobs SET status = @status, progress = @progress, message = @message,
      result_json = @result_json, error_json = @error_json, started_at = @started_at, finished_at = @finished_at WHERE id = @id`);
    this.getStmt = db.prepare('SELECT * FROM jobs WHERE id = ?');
    this.listStmt = db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?');
    this.listByStatusStmt = db.prepare('SELECT * FROM jobs WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?');
  }

  insert(record: JobRecord, params: unknown): void {
    this.insertStmt.run({
      id: record.id,
      kind: record.kind,
      title: record.title,
      status: record.status,
      progress: record.progress,
      message: record.message,
      params_json: JSON.stringify(params ?? {}),
      created_at: record.createdAt,
    });
  }

  update(record: JobRecord): void {
    this.updateStmt.run({
      id: record.id,
      status: record.status,
      progress: record.progress,
      message: record.message,
      result_json: record.result === null ? null : JSON.stringify(record.result),
      error_json: record.error === null ? null : JSON.stringify(record.error),
      started_at: record.startedAt,
      finished_at: record.finishedAt,
    });
  }

  get(id: string): JobRecord | undefined {
    const row = this.getStmt.get(id) as JobRow | undefined;
    return row && toRecord(row);
  }

  list(limit: number, status?: JobStatus): JobRecord[] {
    const rows = (status ? this.listByStatusStmt.all(status, limit) : this.listStmt.all(limit)) as JobRow[];
    return rows.map(toRecord);
  }

  /** Jobs that were running when the process died cannot resume by themselves: say so. */
  markUnfinishedInterrupted(now: string): number {
    const error: ErrorEnvelope = { code: 'CANCELLED', message: 'Interrupted: the app stopped while this job was running.', reason: 'interrupted' };
    return this.db
      .prepare(`UPDATE jobs SET status = 'interrupted', finished_at = ?, error_json = ? WHERE status IN ('queued', 'running')`)
      .run(now, JSON.stringify(error)).changes;
  }

  deleteFinished(): number {
    return this.db.prepare(`DELETE FROM jobs WHERE status IN ('succeeded','failed','cancelled','interrupted')`).run().changes;
  }

  /** Keeps the newest `keep` finished jobs. */
  pruneFinished(keep: number): number {
    return this.db
      .prepare(`DELETE FROM jobs WHERE status IN ('succeeded','failed','cancelled','interrupted') AND id NOT IN (
        SELECT id FROM jobs WHERE status IN ('succeeded','failed','cancelled','interrupted') ORDER BY created_at DESC, rowid DESC LIMIT ?)`)
      .run(keep).changes;
  }
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    status: row.status,
    progress: row.progress,
    message: row.message,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    result: row.result_json === null ? null : (JSON.parse(row.result_json) as unknown),
    error: row.error_json === null ? null : errorEnvelopeSchema.parse(JSON.parse(row.error_json)),
  };
}
