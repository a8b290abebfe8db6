import type { Database, Statement } from 'better-sqlite3';
import type { ReplicationTask, VersionVector } from '../../../shared/domain/replication';

export interface NewReplicationTask {
  name: string;
  version: string;
  nodeId: string;
  operation: 'put' | 'meta';
  changeSeq: number;
  digest: string;
  size: number;
  recordJson: string;
}

export interface QueuedTask extends NewReplicationTask {
  id: number;
  attempts: number;
  createdAt: number;
}

export interface NodeQueueCounters {
  nodeId: string;
  pending: number;
  hints: number;
  done: number;
  bytes: number;
  /** Bytes of every version placed on the node, copied or still queued (what capacity is checked against). */
  placedBytes: number;
  errors: number;
  lastError: string | null;
  /** When the oldest copy still owed to the node was queued (ms), null when none is. */
  oldestPendingAt: number | null;
  lagsMs: number[];
}

/**
 * The persistent replication queue: every copy owed to a node is a row before anyone waits for it,
 * so a restart (even after kill -9) finds exactly the work that was not confirmed. Behind an async
 * interface so another SQL dialect can take its place.
 */
export interface ReplicationQueue {
  /** Adds tasks in one transaction; a task already queued (same version, node, operation, change) is kept as it is. */
  enqueue(tasks: readonly NewReplicationTask[], nowMs: number): Promise<void>;
  /** Running rows of a process that died go back to pending. */
  recoverInterrupted(): Promise<number>;
  /**
   * Claims due tasks whose earlier changes on the same node are confirmed (causal order), at most
   * `slots(nodeId)` per node, oldest first.
   */
  claimDue(nowMs: number, slots: (nodeId: string) => number, limit: number): Promise<QueuedTask[]>;
  markDone(id: number, nowMs: number): Promise<void>;
  markFailed(id: number, error: string, nextAttemptAt: number): Promise<void>;
  /** The earliest time a pending task falls due, or null. */
  nextDueAt(): Promise<number | null>;
  /** Makes pending tasks due now (all, or one node's). */
  retryNow(nowMs: number, nodeId?: string): Promise<number>;
  tasksOf(name: string, version: string): Promise<ReplicationTask[]>;
  list(options: { nodeId?: string; states?: ReadonlyArray<'pending' | 'running' | 'done'>; limit: number }): Promise<ReplicationTask[]>;
  counters(lagSamples: number): Promise<NodeQueueCounters[]>;
  /** The package's next change: its version vector with this writer's counter raised, and a clock reading. */
  nextChange(name: string, writer: string, stamp: (previous: string | null) => string): Promise<{ vector: VersionVector; seq: number; hlc: string }>;
  /** Confirmed put rows per node: what anti-entropy expects each node to hold. */
  confirmedPuts(nodeId: string): Promise<Array<{ name: string; version: string; digest: string; size: number; recordJson: string; changeSeq: number }>>;
  /** Drops every task of a version (a publish that failed its level); returns the nodes that had confirmed a copy. */
  forget(name: string, version: string): Promise<string[]>;
  /** What a registry peer applied of a version it received: its record's vector (null: nothing yet). */
  appliedVector(name: string, version: string): Promise<VersionVector | null>;
  setAppliedVector(name: string, version: string, vector: VersionVector, hlc: string): Promise<void>;
  /** A concurrent write kept for resolution (both sides' records). */
  recordConflict(conflict: { name: string; version: string; kind: string; localJson: string; remoteJson: string }, nowMs: number): Promise<number>;
  /** Bytes of every version placed per node (copied or queued). */
  placedBytes(): Promise<Map<string, number>>;
  /** Copies not yet confirmed. */
  depth(): Promise<number>;
  /** Drops the copies still owed to a node that was removed; returns how many. */
  dropPending(nodeId: string): Promise<number>;
  /** A strong write reached every replica and its commit markers are written. */
  markCommitted(commit: { name: string; version: string; digest: string; level: string; nodes: string[] }, nowMs: number): Promise<void>;
  /** True when the version was written at strong consistency and its commit is not recorded. */
  awaitsCommit(name: string, version: string): Promise<boolean>;
  /** Versions with copies queued before this time. */
  versionsQueuedBefore(ms: number): Promise<Array<{ name: string; version: string }>>;
  /** Nodes that confirmed a copy of these bytes. */
  holdersOf(digest: string): Promise<string[]>;
  /** The newest record queued for a version (its latest change). */
  latestRecord(name: string, version: string): Promise<string | null>;
}

interface TaskRow {
  id: number;
  package_name: string;
  version: string;
  node_id: string;
  operation: 'put' | 'meta';
  change_seq: number;
  digest: string;
  size: number;
  record_json: string;
  state: 'pending' | 'running' | 'done';
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  confirmed_at: number | null;
  held?: number;
}

/** A pending change whose earlier changes on the same node are not confirmed yet is shown as held. */
const withHeld = `*, (state = 'pending' AND EXISTS (SELECT 1 FROM replication_tasks d
  WHERE d.package_name = replication_tasks.package_name AND d.version = replication_tasks.version AND d.node_id = replication_tasks.node_id
    AND d.change_seq < replication_tasks.change_seq AND d.state <> 'done')) AS held`;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export class SqliteReplicationQueue implements ReplicationQueue {
  private readonly insert: Statement;
  private readonly dueCandidates: Statement;
  private readonly claim: Statement;
  private readonly awaitsCommitStmt: Statement;

  constructor(private readonly db: Database) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO replication_tasks
      (package_name, version, node_id, operation, change_seq, digest, size, record_json, state, attempts, next_attempt_at, created_at)
      VALUES (@name, @version, @nodeId, @operation, @changeSeq, @digest, @size, @recordJson, 'pending', 0, @now, @now)`);
    // A change waits for every earlier change of the same version on the same node (a yank never
    // reaches a node before the version's bytes and record did).
    this.dueCandidates = db.prepare(`SELECT t.* FROM replication_tasks t
      WHERE t.state = 'pending' AND t.next_attempt_at <= ?
        AND NOT EXISTS (SELECT 1 FROM replication_tasks d
          WHERE d.package_name = t.package_name AND d.version = t.version AND d.node_id = t.node_id
            AND d.change_seq < t.change_seq AND d.state <> 'done')
      ORDER BY t.id LIMIT ?`);
    this.awaitsCommitStmt = db.prepare(`SELECT 1 FROM replication_tasks t
      WHERE t.package_name = ? AND t.version = ? AND t.change_seq = 0 AND json_extract(t.record_json, '$.consistency') = 'strong'
        AND NOT EXISTS (SELECT 1 FROM replication_commits c WHERE c.package_name = t.package_name AND c.version = t.version)
      LIMIT 1`);
    this.claim = db.prepare(`UPDATE replication_tasks SET state = 'running', attempts = attempts + 1 WHERE id = ? AND state = 'pending'`);
  }

  async enqueue(tasks: readonly NewReplicationTask[], nowMs: number): Promise<void> {
    this.db.transaction(() => {
      for (const task of tasks) this.insert.run({ ...task, now: nowMs });
    })();
    return Promise.resolve();
  }

  async recoverInterrupted(): Promise<number> {
    return Promise.resolve(this.db.prepare(`UPDATE replication_tasks SET state = 'pending' WHERE state = 'running'`).run().changes);
  }

  async claimDue(nowMs: number, slots: (nodeId: string) => number, limit: number): Promise<QueuedTask[]> {
    const claimed = this.db.transaction(() => {
      const rows = this.dueCandidates.all(nowMs, Math.max(limit * 4, 64)) as TaskRow[];
      const taken = new Map<string, number>();
      const result: QueuedTask[] = [];
      for (const row of rows) {
        if (result.length >= limit) break;
        const used = taken.get(row.node_id) ?? 0;
        if (used >= slots(row.node_id)) continue;
        if (this.claim.run(row.id).changes !== 1) continue;
        taken.set(row.node_id, used + 1);
        result.push({
          id: row.id,
          name: row.package_name,
          version: row.version,
          nodeId: row.node_id,
          operation: row.operation,
          changeSeq: row.change_seq,
          digest: row.digest,
          size: row.size,
          recordJson: row.record_json,
          attempts: row.attempts + 1,
          createdAt: row.created_at,
        });
      }
      return result;
    })();
    return Promise.resolve(claimed);
  }

  async markDone(id: number, nowMs: number): Promise<void> {
    this.db.prepare(`UPDATE replication_tasks SET state = 'done', confirmed_at = ?, last_error = NULL WHERE id = ?`).run(nowMs, id);
    return Promise.resolve();
  }

  async markFailed(id: number, error: string, nextAttemptAt: number): Promise<void> {
    this.db.prepare(`UPDATE replication_tasks SET state = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?`).run(error.slice(0, 1000), nextAttemptAt, id);
    return Promise.resolve();
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.db.prepare(`SELECT MIN(next_attempt_at) AS due FROM replication_tasks WHERE state = 'pending'`).get() as { due: number | null };
    return Promise.resolve(row.due);
  }

  async retryNow(nowMs: number, nodeId?: string): Promise<number> {
    const result =
      nodeId === undefined
        ? this.db.prepare(`UPDATE replication_tasks SET next_attempt_at = ? WHERE state = 'pending'`).run(nowMs)
        : this.db.prepare(`UPDATE replication_tasks SET next_attempt_at = ? WHERE state = 'pending' AND node_id = ?`).run(nowMs, nodeId);
    return Promise.resolve(result.changes);
  }

  async tasksOf(name: string, version: string): Promise<ReplicationTask[]> {
    const rows = this.db.prepare(`SELECT ${withHeld} FROM replication_tasks WHERE package_name = ? AND version = ? ORDER BY change_seq, node_id`).all(name, version) as TaskRow[];
    return Promise.resolve(rows.map(taskView));
  }

  async list(options: { nodeId?: string; states?: ReadonlyArray<'pending' | 'running' | 'done'>; limit: number }): Promise<ReplicationTask[]> {
    const states = options.states ?? ['pending', 'running'];
    const placeholders = states.map(() => '?').join(', ');
    const params: Array<string | number> = [...states];
    let sql = `SELECT ${withHeld} FROM replication_tasks WHERE state IN (${placeholders})`;
    if (options.nodeId !== undefined) {
      sql += ' AND node_id = ?';
      params.push(options.nodeId);
    }
    sql += ' ORDER BY id LIMIT ?';
    params.push(options.limit);
    return Promise.resolve((this.db.prepare(sql).all(...params) as TaskRow[]).map(taskView));
  }

  async counters(lagSamples: number): Promise<NodeQueueCounters[]> {
    const rows = this.db
      .prepare(
        `SELECT node_id AS nodeId,
          SUM(state <> 'done') AS pending,
          SUM(state <> 'done' AND attempts > 0) AS hints,
          SUM(state = 'done') AS done,
          SUM(CASE WHEN state = 'done' AND operation = 'put' THEN size ELSE 0 END) AS bytes,
          SUM(CASE WHEN operation = 'put' THEN size ELSE 0 END) AS placedBytes,
          SUM(CASE WHEN state = 'done' THEN attempts - 1 ELSE attempts END) AS errors,
          MIN(CASE WHEN state <> 'done' THEN created_at END) AS oldestPendingAt
        FROM replication_tasks GROUP BY node_id ORDER BY node_id`,
      )
      .all() as Array<Omit<NodeQueueCounters, 'lastError' | 'lagsMs'>>;
    const lastError = this.db.prepare(`SELECT last_error FROM replication_tasks WHERE node_id = ? AND last_error IS NOT NULL ORDER BY next_attempt_at DESC LIMIT 1`);
    const lags = this.db.prepare(`SELECT confirmed_at - created_at AS lag FROM replication_tasks WHERE node_id = ? AND confirmed_at IS NOT NULL ORDER BY confirmed_at DESC LIMIT ?`);
    return Promise.resolve(
      rows.map((row) => ({
        ...row,
        lastError: (lastError.get(row.nodeId) as { last_error: string } | undefined)?.last_error ?? null,
        lagsMs: (lags.all(row.nodeId, lagSamples) as Array<{ lag: number }>).map((lag) => lag.lag),
      })),
    );
  }

  async nextChange(name: string, writer: string, stamp: (previous: string | null) => string): Promise<{ vector: VersionVector; seq: number; hlc: string }> {
    const change = this.db.transaction(() => {
      const row = this.db.prepare('SELECT vector_json, hlc FROM replication_clocks WHERE package_name = ?').get(name) as { vector_json: string; hlc: string } | undefined;
      const vector = row ? (JSON.parse(row.vector_json) as VersionVector) : {};
      const seq = (vector[writer] ?? 0) + 1;
      const next = { ...vector, [writer]: seq };
      const hlc = stamp(row?.hlc ?? null);
      this.db.prepare('INSERT INTO replication_clocks (package_name, vector_json, hlc) VALUES (?, ?, ?) ON CONFLICT (package_name) DO UPDATE SET vector_json = excluded.vector_json, hlc = excluded.hlc').run(name, JSON.stringify(next), hlc);
      return { vector: next, seq, hlc };
    })();
    return Promise.resolve(change);
  }

  async confirmedPuts(nodeId: string): Promise<Array<{ name: string; version: string; digest: string; size: number; recordJson: string; changeSeq: number }>> {
    // The newest confirmed record of each version on the node (its put, or its latest meta change).
    const rows = this.db
      .prepare(
        `SELECT t.package_name AS name, t.version, t.digest, t.size, t.record_json AS recordJson, t.change_seq AS changeSeq
         FROM replication_tasks t
         WHERE t.node_id = ? AND t.state = 'done'
           AND t.change_seq = (SELECT MAX(change_seq) FROM replication_tasks m WHERE m.node_id = t.node_id AND m.package_name = t.package_name AND m.version = t.version AND m.state = 'done')
         ORDER BY t.package_name, t.version`,
      )
      .all(nodeId) as Array<{ name: string; version: string; digest: string; size: number; recordJson: string; changeSeq: number }>;
    return Promise.resolve(rows);
  }

  async forget(name: string, version: string): Promise<string[]> {
    const confirmed = this.db.transaction(() => {
      const nodes = (this.db.prepare(`SELECT DISTINCT node_id FROM replication_tasks WHERE package_name = ? AND version = ? AND state = 'done'`).all(name, version) as Array<{ node_id: string }>).map((row) => row.node_id);
      this.db.prepare('DELETE FROM replication_tasks WHERE package_name = ? AND version = ?').run(name, version);
      this.db.prepare('DELETE FROM replication_commits WHERE package_name = ? AND version = ?').run(name, version);
      return nodes;
    })();
    return Promise.resolve(confirmed);
  }

  async appliedVector(name: string, version: string): Promise<VersionVector | null> {
    // Kept next to the package clocks under a key no package name can have (names hold no ':').
    const row = this.db.prepare('SELECT vector_json FROM replication_clocks WHERE package_name = ?').get(`peer:${name}@${version}`) as { vector_json: string } | undefined;
    return Promise.resolve(row ? (JSON.parse(row.vector_json) as VersionVector) : null);
  }

  async setAppliedVector(name: string, version: string, vector: VersionVector, hlc: string): Promise<void> {
    this.db
      .prepare('INSERT INTO replication_clocks (package_name, vector_json, hlc) VALUES (?, ?, ?) ON CONFLICT (package_name) DO UPDATE SET vector_json = excluded.vector_json, hlc = excluded.hlc')
      .run(`peer:${name}@${version}`, JSON.stringify(vector), hlc);
    return Promise.resolve();
  }

  async recordConflict(conflict: { name: string; version: string; kind: string; localJson: string; remoteJson: string }, nowMs: number): Promise<number> {
    const open = this.db.prepare('SELECT id FROM replication_conflicts WHERE package_name = ? AND version = ? AND kind = ? AND remote_json = ? AND resolved_at IS NULL').get(conflict.name, conflict.version, conflict.kind, conflict.remoteJson) as { id: number } | undefined;
    if (open) return Promise.resolve(open.id);
    const result = this.db
      .prepare('INSERT INTO replication_conflicts (package_name, version, kind, local_json, remote_json, detected_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(conflict.name, conflict.version, conflict.kind, conflict.localJson, conflict.remoteJson, nowMs);
    return Promise.resolve(Number(result.lastInsertRowid));
  }

  async placedBytes(): Promise<Map<string, number>> {
    const rows = this.db.prepare(`SELECT node_id AS nodeId, SUM(size) AS bytes FROM replication_tasks WHERE operation = 'put' GROUP BY node_id`).all() as Array<{ nodeId: string; bytes: number }>;
    return Promise.resolve(new Map(rows.map((row) => [row.nodeId, row.bytes])));
  }

  async depth(): Promise<number> {
    return Promise.resolve((this.db.prepare(`SELECT COUNT(*) AS depth FROM replication_tasks WHERE state IN ('pending', 'running')`).get() as { depth: number }).depth);
  }

  async dropPending(nodeId: string): Promise<number> {
    return Promise.resolve(this.db.prepare(`DELETE FROM replication_tasks WHERE node_id = ? AND state <> 'done'`).run(nodeId).changes);
  }

  async markCommitted(commit: { name: string; version: string; digest: string; level: string; nodes: string[] }, nowMs: number): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO replication_commits (package_name, version, digest, level, nodes_json, committed_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(commit.name, commit.version, commit.digest, commit.level, JSON.stringify(commit.nodes), nowMs);
    return Promise.resolve();
  }

  async awaitsCommit(name: string, version: string): Promise<boolean> {
    const row = this.awaitsCommitStmt.get(name, version);
    return Promise.resolve(row !== undefined);
  }

  async versionsQueuedBefore(ms: number): Promise<Array<{ name: string; version: string }>> {
    return Promise.resolve(this.db.prepare('SELECT DISTINCT package_name AS name, version FROM replication_tasks WHERE change_seq = 0 AND created_at < ?').all(ms) as Array<{ name: string; version: string }>);
  }

  async holdersOf(digest: string): Promise<string[]> {
    const rows = this.db.prepare(`SELECT DISTINCT node_id FROM replication_tasks WHERE digest = ? AND operation = 'put' AND state = 'done' ORDER BY node_id`).all(digest) as Array<{ node_id: string }>;
    return Promise.resolve(rows.map((row) => row.node_id));
  }

  async latestRecord(name: string, version: string): Promise<string | null> {
    const row = this.db.prepare('SELECT record_json FROM replication_tasks WHERE package_name = ? AND version = ? ORDER BY change_seq DESC, id DESC LIMIT 1').get(name, version) as { record_json: string } | undefined;
    return Promise.resolve(row?.record_json ?? null);
  }
}

function taskView(row: TaskRow): ReplicationTask {
  return {
    id: row.id,
    name: row.package_name,
    version: row.version,
    nodeId: row.node_id,
    operation: row.operation,
    state: row.held ? 'held' : row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' ? iso(row.next_attempt_at) : null,
    lastError: row.last_error,
    createdAt: iso(row.created_at) ?? '',
    confirmedAt: iso(row.confirmed_at),
  };
}
