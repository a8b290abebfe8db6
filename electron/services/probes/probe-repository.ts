import type { Database } from 'better-sqlite3';
import { mirrorHealthSchema, type MirrorHealth } from '../../../shared/domain/mirrors';
import { initialHealth } from './probe-health';

/** One recorded check. */
export interface ProbeHistoryEntry {
  at: string;
  ok: boolean;
  status: MirrorHealth['status'];
  latencyMs: number | null;
  error: string | null;
}

/**
 * What the probes remember of every target, keyed by (kind, id): `mirror`, later `cdn-edge`, `replica`.
 * Async so a PostgreSQL dialect can stand in; the SQLite one answers at once.
 */
export interface ProbeRepository {
  state(kind: string, id: string): Promise<MirrorHealth>;
  states(kind: string): Promise<Map<string, MirrorHealth>>;
  saveState(kind: string, id: string, health: MirrorHealth): Promise<void>;
  /** Appends a check and keeps only the newest `keep` of that target. */
  appendHistory(kind: string, id: string, entry: ProbeHistoryEntry, keep: number): Promise<void>;
  /** The newest `limit` checks, oldest first. */
  history(kind: string, id: string, limit: number): Promise<ProbeHistoryEntry[]>;
  forget(kind: string, id: string): Promise<void>;
}

interface HistoryRow {
  at: string;
  ok: number;
  status: MirrorHealth['status'];
  latency_ms: number | null;
  error: string | null;
}

export class SqliteProbeRepository implements ProbeRepository {
  private readonly statements;

  constructor(db: Database) {
    this.statements = {
      state: db.prepare<[string, string], { state_json: string }>('SELECT state_json FROM probe_state WHERE kind = ? AND target_id = ?'),
      states: db.prepare<[string], { target_id: string; state_json: string }>('SELECT target_id, state_json FROM probe_state WHERE kind = ?'),
      save: db.prepare('INSERT INTO probe_state (kind, target_id, state_json) VALUES (?, ?, ?) ON CONFLICT (kind, target_id) DO UPDATE SET state_json = excluded.state_json'),
      append: db.prepare('INSERT INTO probe_history (kind, target_id, at, ok, status, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      trim: db.prepare(`DELETE FROM probe_history WHERE kind = ? AND target_id = ? AND id <= (
        SELECT id FROM probe_history WHERE kind = ? AND target_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`),
      history: db.prepare<[string, string, number], HistoryRow>('SELECT at, ok, status, latency_ms, error FROM probe_history WHERE kind = ? AND target_id = ? ORDER BY id DESC LIMIT ?'),
      forgetState: db.prepare('DELETE FROM probe_state WHERE kind = ? AND target_id = ?'),
      forgetHistory: db.prepare('DELETE FROM probe_history WHERE kind = ? AND target_id = ?'),
    };
  }

  async state(kind: string, id: string): Promise<MirrorHealth> {
    const row = this.statements.state.get(kind, id);
    return row ? parseState(row.state_json) : initialHealth();
  }

  async states(kind: string): Promise<Map<string, MirrorHealth>> {
    return new Map(this.statements.states.all(kind).map((row) => [row.target_id, parseState(row.state_json)]));
  }

  async saveState(kind: string, id: string, health: MirrorHealth): Promise<void> {
    this.statements.save.run(kind, id, JSON.stringify(health));
  }

  async appendHistory(kind: string, id: string, entry: ProbeHistoryEntry, keep: number): Promise<void> {
    this.statements.append.run(kind, id, entry.at, entry.ok ? 1 : 0, entry.status, entry.latencyMs, entry.error);
    this.statements.trim.run(kind, id, kind, id, keep);
  }

  async history(kind: string, id: string, limit: number): Promise<ProbeHistoryEntry[]> {
    return this.statements.history
      .all(kind, id, limit)
      .reverse()
      .map((row) => ({ at: row.at, ok: row.ok === 1, status: row.status, latencyMs: row.latency_ms, error: row.error }));
  }

  async forget(kind: string, id: string): Promise<void> {
    this.statements.forgetState.run(kind, id);
    this.statements.forgetHistory.run(kind, id);
  }
}

function parseState(json: string): MirrorHealth {
  const parsed = mirrorHealthSchema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : initialHealth();
}
