import type { Database } from 'better-sqlite3';
import type { AlertHistoryEntry, AlertRule, AlertState, AlertStatus } from '../../../shared/domain/metrics';

interface RuleRow {
  id: string;
  name: string;
  metric: AlertRule['metric'];
  kind: AlertRule['kind'];
  threshold: number;
  window_ms: number;
  for_ms: number;
  severity: AlertRule['severity'];
  enabled: number;
  state: AlertState;
  active_since: number | null;
  fired_at: number | null;
  resolved_at: number | null;
  value: number | null;
  acknowledged_at: number | null;
  silenced_until: number | null;
  evaluated_at: number | null;
}

/** The evaluation state of a rule, as persisted. */
export type AlertStateFields = Omit<AlertStatus, 'rule'>;

/** Every SQL statement of alert rules, their state and history. */
export class AlertRepository {
  constructor(private readonly db: Database) {}

  list(): AlertStatus[] {
    return (this.db.prepare('SELECT * FROM alert_rules ORDER BY created_at, id').all() as RuleRow[]).map(toStatus);
  }

  get(id: string): AlertStatus | null {
    const row = this.db.prepare('SELECT * FROM alert_rules WHERE id = ?').get(id) as RuleRow | undefined;
    return row ? toStatus(row) : null;
  }

  /** Inserts or replaces a rule's definition; a changed definition starts evaluating afresh. */
  saveRule(rule: AlertRule, now: number): void {
    this.db
      .prepare(
        `INSERT INTO alert_rules (id, name, metric, kind, threshold, window_ms, for_ms, severity, enabled, created_at)
         VALUES (@id, @name, @metric, @kind, @threshold, @windowMs, @forMs, @severity, @enabled, @now)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, metric = excluded.metric, kind = excluded.kind, threshold = excluded.threshold,
           window_ms = excluded.window_ms, for_ms = excluded.for_ms, severity = excluded.severity, enabled = excluded.enabled,
           state = 'inactive', active_since = NULL, fired_at = NULL, value = NULL, acknowledged_at = NULL, evaluated_at = NULL`,
      )
      .run({ ...rule, enabled: rule.enabled ? 1 : 0, now });
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM alert_rules WHERE id = ?').run(id).changes > 0;
  }

  updateState(id: string, state: AlertStateFields): void {
    this.db
      .prepare(
        `UPDATE alert_rules SET state = @state, active_since = @activeSince, fired_at = @firedAt, resolved_at = @resolvedAt, value = @value,
           acknowledged_at = @acknowledgedAt, silenced_until = @silencedUntil, evaluated_at = @evaluatedAt WHERE id = @id`,
      )
      .run({ ...state, id });
  }

  addHistory(ruleId: string, state: AlertHistoryEntry['state'], at: number, value: number | null, silenced: boolean): void {
    this.db.prepare('INSERT INTO alert_history (rule_id, state, at, value, silenced) VALUES (?, ?, ?, ?, ?)').run(ruleId, state, at, value, silenced ? 1 : 0);
  }

  history(ruleId: string | undefined, limit: number): AlertHistoryEntry[] {
    const rows = this.db
      .prepare(
        `SELECT h.id, h.rule_id AS ruleId, r.name AS ruleName, h.state, h.at, h.value, h.silenced FROM alert_history h JOIN alert_rules r ON r.id = h.rule_id
         ${ruleId === undefined ? '' : 'WHERE h.rule_id = @ruleId'} ORDER BY h.at DESC, h.id DESC LIMIT @limit`,
      )
      .all({ limit, ...(ruleId === undefined ? {} : { ruleId }) }) as Array<Omit<AlertHistoryEntry, 'silenced'> & { silenced: number }>;
    return rows.map((row) => ({ ...row, silenced: row.silenced === 1 }));
  }

  pruneHistory(before: number): number {
    return this.db.prepare('DELETE FROM alert_history WHERE at < ?').run(before).changes;
  }
}

function toStatus(row: RuleRow): AlertStatus {
  return {
    rule: {
      id: row.id,
      name: row.name,
      metric: row.metric,
      kind: row.kind,
      threshold: row.threshold,
      windowMs: row.window_ms,
      forMs: row.for_ms,
      severity: row.severity,
      enabled: row.enabled === 1,
    },
    state: row.state,
    activeSince: row.active_since,
    firedAt: row.fired_at,
    resolvedAt: row.resolved_at,
    value: row.value,
    acknowledgedAt: row.acknowledged_at,
    silencedUntil: row.silenced_until,
    evaluatedAt: row.evaluated_at,
  };
}
