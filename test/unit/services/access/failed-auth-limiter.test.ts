import { describe, expect, it } from 'vitest';
import { FailedAuthLimiter, RateLimitedError } from '../../../../electron/services/access/failed-auth-limiter';

describe('FailedAuthLimiter', () => {
  it('refuses an address after its budget, reports the burst once, and forgives as the window moves', () => {
    let now = 1_000_000;
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 10_000, now: () => now });
    expect([limiter.recordFailure('a'), limiter.recordFailure('a'), limiter.recordFailure('a')]).toEqual([false, false, true]);
    expect(() => limiter.assertAllowed('a')).toThrow(RateLimitedError);
    limiter.assertAllowed('b');
    try {
      limiter.assertAllowed('a');
    } catch (error) {
      expect((error as RateLimitedError).retryAfterSeconds).toBe(10);
    }
    now += 10_001;
    limiter.assertAllowed('a');
  });
});
