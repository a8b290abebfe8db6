import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../../electron/services/retry/circuit-breaker';

describe('circuit breaker', () => {
  it('opens after the threshold of failures in a row, lets one trial through after the cool-down, closes on its success', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 1_000, now: () => now });
    breaker.failure();
    breaker.failure();
    expect(breaker.tryAcquire()).toBe(true);
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    now = 1_000;
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('a failed trial opens the circuit again for twice as long', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 500, now: () => now });
    breaker.failure();
    now = 500;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    now = 1_499;
    expect(breaker.waitMs()).toBe(1);
    expect(breaker.tryAcquire()).toBe(false);
    now = 1_500;
    expect(breaker.tryAcquire()).toBe(true);
  });
});
