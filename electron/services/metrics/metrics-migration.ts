import type { Migration } from '../database/migration';

/**
 * Migration 9: the metrics time series and alert state. Raw events are kept a day; per-minute and
 * per-hour rollups (written in the same transaction as the raw rows) keep the history cheap.
 * Each rollup row carries its duration histogram so percentiles survive the raw rows' retention.
 */
export const metricsMigration: Migration = {
  version: 9,
  name: 'metrics: events, minute and hour rollups, alert rules and states',
  up(db) {
    db.exec(`
      CREATE TABLE metric_events (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('download','upload','error','access')),
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        peer TEXT NOT NULL,
        code TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        duration_ms REAL NOT NULL
      );
      -- One index only (alert windows and retention both go by kind and time): every index costs on each insert.
      CREATE INDEX metric_events_kind_at ON metric_events (kind, at);
      CREATE TABLE metric_rollups (
        resolution_ms INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        peer TEXT NOT NULL,
        code TEXT NOT NULL,
        count INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        duration_sum REAL NOT NULL,
        duration_max REAL NOT NULL,
        -- Counts per duration bucket (bounds in duration-buckets.ts), a JSON array.
        duration_histogram TEXT NOT NULL,
        PRIMARY KEY (resolution_ms, bucket, kind, name, version, peer, code)
      ) WITHOUT ROWID;
      CREATE INDEX metric_rollups_range ON metric_rollups (resolution_ms, kind, bucket);
      CREATE TABLE alert_rules (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        metric TEXT NOT NULL,
        kind TEXT NOT NULL,
        threshold REAL NOT NULL,
        window_ms INTEGER NOT NULL,
        for_ms INTEGER NOT NULL,
        severity TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        -- Evaluation state, persisted so a restart neither re-fires nor forgets a firing alert.
        state TEXT NOT NULL DEFAULT 'inactive' CHECK (state IN ('inactive','pending','firing','resolved')),
        active_since INTEGER,
        fired_at INTEGER,
        resolved_at INTEGER,
        value REAL,
        acknowledged_at INTEGER,
        silenced_until INTEGER,
        evaluated_at INTEGER
      );
      CREATE TABLE alert_history (
        id INTEGER PRIMARY KEY,
        rule_id TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
        state TEXT NOT NULL,
        at INTEGER NOT NULL,
        value REAL,
        silenced INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX alert_history_rule_at ON alert_history (rule_id, at DESC);
      CREATE INDEX alert_history_at ON alert_history (at DESC);
    `);
  },
};
