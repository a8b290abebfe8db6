import type { MirrorHealth, MirrorStatus } from '../../../shared/domain/mirrors';

/** Thresholds of the hysteresis (the `health:` block of a section). */
export interface ProbeThresholds {
  /** Consecutive failed checks before a target goes Unhealthy. */
  failuresToDown: number;
  /** Consecutive good checks before an Unhealthy target comes back. */
  successesToUp: number;
  /** A check slower than this (EWMA) makes a target Degraded. */
  degradedLatencyMs: number;
}

/** What one check found. `degradedBy` names a reason to call a working target Degraded (e.g. staleness). */
export interface ProbeOutcome {
  at: Date;
  ok: boolean;
  latencyMs: number | null;
  error: string | null;
  stalenessVersions?: number | null;
  stalenessSeconds?: number | null;
  tlsExpiresAt?: string | null;
  degradedBy?: string | null;
}

/** Weight of the newest sample in the moving averages. */
export const ewmaAlpha = 0.3;

export function ewma(previous: number | null, sample: number, alpha = ewmaAlpha): number {
  return previous === null ? sample : previous + alpha * (sample - previous);
}

export function initialHealth(): MirrorHealth {
  return {
    status: 'unknown',
    lastCheckAt: null,
    lastError: null,
    latencyMs: null,
    throughputBytesPerSec: null,
    stalenessVersions: null,
    stalenessSeconds: null,
    tlsExpiresAt: null,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
  };
}

/**
 * The next health after one check, with hysteresis: a failing target turns Degraded at once and
 * Unhealthy only after `failuresToDown` failures in a row; an Unhealthy one needs `successesToUp`
 * good checks in a row to come back. Unknown becomes Healthy on its first good check (no history
 * to distrust) and Unhealthy after `failuresToDown` failures.
 */
export function nextHealth(previous: MirrorHealth, outcome: ProbeOutcome, thresholds: ProbeThresholds): MirrorHealth {
  const consecutiveFailures = outcome.ok ? 0 : previous.consecutiveFailures + 1;
  const consecutiveSuccesses = outcome.ok ? previous.consecutiveSuccesses + 1 : 0;
  const latencyMs = outcome.ok && outcome.latencyMs !== null ? ewma(previous.latencyMs, outcome.latencyMs) : previous.latencyMs;
  let status: MirrorStatus;
  if (!outcome.ok) {
    if (consecutiveFailures >= thresholds.failuresToDown) status = 'unhealthy';
    else if (previous.status === 'healthy' || previous.status === 'degraded') status = 'degraded';
    else status = previous.status;
  } else if (previous.status === 'unhealthy' && consecutiveSuccesses < thresholds.successesToUp) {
    status = 'unhealthy';
  } else {
    const slow = latencyMs !== null && latencyMs > thresholds.degradedLatencyMs;
    status = slow || (outcome.degradedBy ?? null) !== null ? 'degraded' : 'healthy';
  }
  return {
    status,
    lastCheckAt: outcome.at.toISOString(),
    lastError: outcome.ok ? (outcome.degradedBy ?? null) : outcome.error,
    latencyMs,
    throughputBytesPerSec: previous.throughputBytesPerSec,
    stalenessVersions: outcome.stalenessVersions !== undefined ? outcome.stalenessVersions : previous.stalenessVersions,
    stalenessSeconds: outcome.stalenessSeconds !== undefined ? outcome.stalenessSeconds : previous.stalenessSeconds,
    tlsExpiresAt: outcome.tlsExpiresAt !== undefined ? outcome.tlsExpiresAt : previous.tlsExpiresAt,
    consecutiveFailures,
    consecutiveSuccesses,
  };
}

/** Folds a finished download into the throughput average (bytes per second). */
export function withTransfer(previous: MirrorHealth, bytes: number, durationMs: number): MirrorHealth {
  if (bytes <= 0 || durationMs <= 0) return previous;
  return { ...previous, throughputBytesPerSec: ewma(previous.throughputBytesPerSec, (bytes * 1000) / durationMs) };
}
