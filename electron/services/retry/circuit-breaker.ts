/** Where a breaker stands: closed (calls go through), open (refused until the cool-down ends), half-open (one trial). */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long it stays open before one trial (half-open); doubles with each failed trial, up to `maxOpenMs`. */
  openMs: number;
  maxOpenMs?: number;
  now?: () => number;
}

/**
 * Per-target circuit breaker (Verdaccio's `max_fails`, Nexus' auto-block), one instance per mirror, edge or node: after `failureThreshold` failures in a row the target gets no requests
 * for `openMs`, then one trial; a success closes it, a failure opens it again for twice as long.
 */
export class CircuitBreaker {
  private failures = 0;
  private openings = 0;
  private openUntil = 0;
  private trial = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.failures < this.options.failureThreshold) return 'closed';
    return this.now() >= this.openUntil ? 'half-open' : 'open';
  }

  /** True when a request may go out now (closed, or the one trial of half-open). */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trial) return false;
    this.trial = true;
    return true;
  }

  /** Milliseconds until a request may go out (0 when it may now). */
  waitMs(): number {
    return this.state === 'open' ? this.openUntil - this.now() : 0;
  }

  success(): void {
    this.failures = 0;
    this.openings = 0;
    this.trial = false;
  }

  failure(): void {
    this.failures += 1;
    this.trial = false;
    if (this.failures >= this.options.failureThreshold) {
      const openMs = Math.min(this.options.maxOpenMs ?? Number.POSITIVE_INFINITY, this.options.openMs * 2 ** this.openings);
      this.openings += 1;
      this.openUntil = this.now() + openMs;
    }
  }
}
