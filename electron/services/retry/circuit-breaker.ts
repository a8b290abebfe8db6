/** Where a breaker stands: closed (calls go through), open (refused until the cool-down ends), half-open (one trial). */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before one trial is let through. */
  coolDownMs: number;
  now?: () => number;
}

/**
 * A per-target circuit breaker (Verdaccio's `max_fails`, Nexus' auto-block): after `failureThreshold`
 * failures in a row the target is skipped for `coolDownMs`; then one trial call decides whether it closes
 * again or stays open for another cool-down. One instance per target (mirror, edge, node).
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private trialInFlight = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.options.coolDownMs ? 'half-open' : 'open';
  }

  /** True when a call may go now; in half-open only one trial is allowed until it reports. */
  allows(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** Milliseconds until the next call may go (0 when it may now): a caller sleeps this long instead of polling. */
  retryInMs(): number {
    if (this.state !== 'open' || this.openedAt === null) return 0;
    return Math.max(0, this.openedAt + this.options.coolDownMs - this.now());
  }

  succeeded(): void {
    this.failures = 0;
    this.openedAt = null;
    this.trialInFlight = false;
  }

  failed(): void {
    this.trialInFlight = false;
    this.failures += 1;
    if (this.openedAt !== null || this.failures >= this.options.failureThreshold) this.openedAt = this.now();
  }
}
