import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../../electron/services/retry/circuit-breaker';

describe('circuit breaker', () => {
  it('opens after the threshold of failures in a row, lets one trial through after the cool-down, closes on its success', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 1_000, now: () => now });
    breaker.failed();
    breaker.failed();
    expect(breaker.allows()).toBe(true);
    breaker.succeeded();
    breaker.failed();
    breaker.failed();
    expect(breaker.state).toBe('closed');
    breaker.failed();
    expect(breaker.state).toBe('open');
    expect(breaker.allows()).toBe(false);
    now = 1_000;
    expect(breaker.state).toBe('half-open');
    expect(breaker.allows()).toBe(true);
    expect(breaker.allows()).toBe(false);
    breaker.succeeded();
    expect(breaker.state).toBe('closed');
    expect(breaker.allows()).toBe(true);
  });

  it('a failed trial opens the circuit for another full cool-down', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 500, now: () => now });
    breaker.failed();
    now = 500;
    expect(breaker.allows()).toBe(true);
    breaker.failed();
    expect(breaker.state).toBe('open');
    now = 999;
    expect(breaker.allows()).toBe(false);
    now = 1_000;
    expect(breaker.allows()).toBe(true);
  });
});
