import type { MetricEventKind } from '../../../shared/domain/metrics';

/**
 * One recorded event as stored. Downloads and uploads: package name, version, source or target
 * in `peer`. Errors: the operation in `name`, the target in `peer`, the code in `code`.
 * Accesses: the action in `name`, the subject in `peer`, the outcome in `code`.
 */
export interface MetricEvent {
  at: number;
  kind: MetricEventKind;
  name: string;
  version: string;
  peer: string;
  code: string;
  bytes: number;
  durationMs: number;
}

export const minuteMs = 60_000;
export const hourMs = 3_600_000;
export const dayMs = 24 * hourMs;

/** How long each resolution is kept. */
export interface MetricsRetention {
  rawMs: number;
  minuteMs: number;
  hourMs: number;
}

export const defaultRetention: MetricsRetention = { rawMs: dayMs, minuteMs: 30 * dayMs, hourMs: 365 * dayMs };
