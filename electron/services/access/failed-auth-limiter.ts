import { DepotError } from '../../../shared/errors';

export interface FailedAuthLimiterOptions {
  /** Failed authentications one address may make within the window before it is refused. */
  maxFailures?: number;
  windowMs?: number;
  now?: () => number;
}

/** A 429: the caller should wait `retryAfterSeconds` (sent as `Retry-After`). */
export class RateLimitedError extends DepotError {
  constructor(readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', `Too many failed authentications from this address; retry in ${retryAfterSeconds} s.`, { reason: 'auth-rate-limited' });
  }
}

/**
 * Slows down key guessing: an address that failed `maxFailures` times within the window is refused
 * until its oldest failure leaves the window. Other addresses are untouched. Memory is bounded by
 * forgetting quiet addresses.
 */
export class FailedAuthLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: FailedAuthLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 20;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Throws RateLimitedError while the address is over its budget. */
  assertAllowed(address: string): void {
    const recent = this.recent(address);
    if (recent.length < this.maxFailures) return;
    const oldest = recent[0] ?? this.now();
    throw new RateLimitedError(Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000)));
  }

  /** Records a failure; true exactly when this one used up the budget (the start of a burst). */
  recordFailure(address: string): boolean {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.set(address, recent);
    if (this.failures.size > 10_000) this.forgetQuiet();
    return recent.length === this.maxFailures;
  }

  private recent(address: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = this.failures.get(address);
    if (!list) return [];
    const kept = list.filter((at) => at > cutoff).slice(-this.maxFailures);
    if (kept.length === 0) this.failures.delete(address);
    else this.failures.set(address, kept);
    return kept;
  }

  private forgetQuiet(): void {
    for (const address of [...this.failures.keys()]) this.recent(address);
  }
}
