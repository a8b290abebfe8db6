import { describe, expect, it } from 'vitest';
import { ewma, initialHealth, nextHealth, withTransfer, type ProbeOutcome, type ProbeThresholds } from '../../../../electron/services/probes/probe-health';
import type { MirrorHealth } from '../../../../shared/domain/mirrors';

const thresholds: ProbeThresholds = { failuresToDown: 3, successesToUp: 2, degradedLatencyMs: 500 };
const at = new Date('2026-12-02T12:00:00Z');
const good = (latencyMs = 50, extra: Partial<ProbeOutcome> = {}): ProbeOutcome => ({ at, ok: true, latencyMs, error: null, ...extra });
const bad: ProbeOutcome = { at, ok: false, latencyMs: null, error: 'connection refused' };

function run(outcomes: ProbeOutcome[], start: MirrorHealth = initialHealth()): MirrorHealth[] {
  const seen: MirrorHealth[] = [];
  let health = start;
  for (const outcome of outcomes) {
    health = nextHealth(health, outcome, thresholds);
    seen.push(health);
  }
  return seen;
}

describe('probe health hysteresis', () => {
  it('goes Healthy on the first good check, Degraded on a failure, Unhealthy only after failures_to_down in a row', () => {
    expect(run([good(), bad, bad, bad]).map((health) => health.status)).toEqual(['healthy', 'degraded', 'degraded', 'unhealthy']);
  });

  it('needs successes_to_up good checks in a row to come back, and a failure in between starts the count again', () => {
    const down = run([good(), bad, bad, bad]).at(-1)!;
    expect(run([good(), bad, good(), good()], down).map((health) => health.status)).toEqual(['unhealthy', 'unhealthy', 'unhealthy', 'healthy']);
  });

  it('an Unknown target that never answers becomes Unhealthy, not Healthy', () => {
    expect(run([bad, bad, bad]).map((health) => health.status)).toEqual(['unknown', 'unknown', 'unhealthy']);
  });

  it('a slow average or a stated reason (staleness) makes a working target Degraded', () => {
    expect(run([good(2_000)]).at(-1)!.status).toBe('degraded');
    const stale = run([good(50, { stalenessVersions: 2, stalenessSeconds: 30, degradedBy: '2 changes behind' })]).at(-1)!;
    expect(stale).toMatchObject({ status: 'degraded', stalenessVersions: 2, stalenessSeconds: 30, lastError: '2 changes behind' });
  });

  it('keeps an EWMA of latency (failures do not move it) and of throughput from transfers', () => {
    const seen = run([good(100), good(200), bad]);
    expect(seen[0]!.latencyMs).toBe(100);
    expect(seen[1]!.latencyMs).toBeCloseTo(ewma(100, 200));
    expect(seen[2]!.latencyMs).toBeCloseTo(130);
    const fed = withTransfer(withTransfer(initialHealth(), 1_000_000, 1_000), 4_000_000, 1_000);
    expect(fed.throughputBytesPerSec).toBeCloseTo(1_000_000 + 0.3 * 3_000_000);
  });
});
