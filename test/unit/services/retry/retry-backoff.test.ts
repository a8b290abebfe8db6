import { describe, expect, it } from 'vitest';
import { backoffDelayMs, defaultRetryPolicy } from '../../../../electron/services/retry/retry-backoff';

describe('retry backoff (exponential, full jitter)', () => {
  it('draws each delay uniformly below base·2^attempt, capped at max: the exact schedule', () => {
    const options = { baseMs: 500, maxMs: 15_000 };
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelayMs(attempt, { ...options, random: () => 1 }));
    expect(ceilings).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
    expect([0, 1, 2, 3].map((attempt) => backoffDelayMs(attempt, { ...options, random: () => 0.5 }))).toEqual([250, 500, 1_000, 2_000]);
    expect([0, 1, 2, 3].map((attempt) => backoffDelayMs(attempt, { ...options, random: () => 0 }))).toEqual([0, 0, 0, 0]);
    // Just below 1 (what Math.random can return) stays below the ceiling.
    expect(backoffDelayMs(2, { ...options, random: () => 0.999_999 })).toBe(1_999);
    // A negative attempt is treated as the first.
    expect(backoffDelayMs(-3, { ...options, random: () => 1 })).toBe(500);
  });

  it('has the documented defaults: 3 retries, 500 ms doubling, at most 15 s', () => {
    expect(defaultRetryPolicy).toEqual({ retries: 3, baseMs: 500, maxMs: 15_000 });
    const schedule = Array.from({ length: defaultRetryPolicy.retries }, (_, attempt) => backoffDelayMs(attempt, { ...defaultRetryPolicy, random: () => 1 }));
    expect(schedule).toEqual([500, 1_000, 2_000]);
  });
});
