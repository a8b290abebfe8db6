import { describe, expect, it } from 'vitest';
import { clientKey, defaultFailureWindowMs, defaultMaxClients, defaultMaxFailures, FailedAuthLimiter, RateLimitedError } from '../../../../electron/services/access/failed-auth-limiter';

describe('FailedAuthLimiter', () => {
  it('refuses an address after its budget, reports the burst once, and forgives as the window moves', () => {
    let now = 1_000_000;
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 10_000, now: () => now });
    expect([limiter.recordFailure('a'), limiter.recordFailure('a'), limiter.recordFailure('a')]).toEqual([false, false, true]);
    expect(() => limiter.assertAllowed('a')).toThrow(RateLimitedError);
    limiter.assertAllowed('b');
    let retryAfter = 0;
    try {
      limiter.assertAllowed('a');
    } catch (error) {
      retryAfter = (error as RateLimitedError).retryAfterSeconds;
    }
    expect(retryAfter).toBe(10);
    now += 10_001;
    limiter.assertAllowed('a');
  });

  it('documents its defaults: 20 failures per minute, 10,000 clients remembered', () => {
    expect([defaultMaxFailures, defaultFailureWindowMs, defaultMaxClients]).toEqual([20, 60_000, 10_000]);
    const limiter = new FailedAuthLimiter();
    for (let index = 0; index < 19; index += 1) limiter.recordFailure('198.51.100.1');
    limiter.assertAllowed('198.51.100.1');
    expect(limiter.recordFailure('198.51.100.1')).toBe(true);
    expect(() => limiter.assertAllowed('198.51.100.1')).toThrow(RateLimitedError);
  });

  it('keys IPv6 clients by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientKey('203.0.113.9')).toBe('203.0.113.9');
    expect(clientKey('unknown')).toBe('unknown');
    const limiter = new FailedAuthLimiter({ maxFailures: 2 });
    limiter.recordFailure('2001:db8:1:2::1');
    limiter.recordFailure('2001:db8:1:2::abcd');
    // Another address in the same /64 is the same client; the next /64 is another one.
    expect(() => limiter.assertAllowed('2001:db8:1:2:ffff::9')).toThrow(RateLimitedError);
    limiter.assertAllowed('2001:db8:1:3::1');
  });

  it('stays bounded under an IPv6 spray, forgetting the least recently failing client first', () => {
    const limiter = new FailedAuthLimiter({ maxFailures: 3, maxClients: 1_000 });
    limiter.recordFailure('203.0.113.1');
    limiter.recordFailure('203.0.113.1');
    for (let index = 0; index < 100_000; index += 1) {
      limiter.recordFailure(`2001:db8:${(index >>> 16).toString(16)}:${(index & 0xffff).toString(16)}::1`);
      if (index === 99_500) {
        // A client that fails recently is remembered (each failure moves it to the back).
        for (let attempt = 0; attempt < 3; attempt += 1) limiter.recordFailure('198.51.100.7');
      }
      if (index % 1_000 === 0) expect(limiter.size).toBeLessThanOrEqual(1_000);
    }
    expect(() => limiter.assertAllowed('198.51.100.7')).toThrow(RateLimitedError);
    expect(limiter.size).toBe(1_000);
    // The old, quiet client was forgotten: its next failure starts a fresh budget.
    expect(limiter.recordFailure('203.0.113.1')).toBe(false);
    limiter.assertAllowed('203.0.113.1');
  });
});
