import { isIP } from 'node:net';
import { DepotError } from '../../../shared/errors';

export interface FailedAuthLimiterOptions {
  /** Failed authentications one client may make within the window before it is refused. */
  maxFailures?: number;
  windowMs?: number;
  /** Most clients remembered at once; the least recently failing is forgotten first. */
  maxClients?: number;
  now?: () => number;
}

export const defaultMaxFailures = 20;
export const defaultFailureWindowMs = 60_000;
export const defaultMaxClients = 10_000;

/** A 429: the caller should wait `retryAfterSeconds` (sent as `Retry-After`). */
export class RateLimitedError extends DepotError {
  constructor(readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', `Too many failed authentications from this address; retry in ${retryAfterSeconds} s.`, { reason: 'auth-rate-limited' });
  }
}

/**
 * Slows down key guessing: a client that failed `maxFailures` times within the window is refused
 * until its oldest failure leaves the window. Other clients are untouched. A client is an IPv4
 * address or an IPv6 /64 (one host usually owns a whole /64, so spraying addresses inside it gains
 * nothing). Memory is bounded: at most `maxClients` are remembered, least recently failing forgotten
 * first, each with at most `maxFailures` timestamps.
 */
export class FailedAuthLimiter {
  /** Map order is recency order: a failure moves its client to the end. */
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(options: FailedAuthLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? defaultMaxFailures;
    this.windowMs = options.windowMs ?? defaultFailureWindowMs;
    this.maxClients = Math.max(1, options.maxClients ?? defaultMaxClients);
    this.now = options.now ?? Date.now;
  }

  /** How many clients are remembered now (for tests and monitoring). */
  get size(): number {
    return this.failures.size;
  }

  /** Throws RateLimitedError while the client is over its budget. */
  assertAllowed(address: string): void {
    const recent = this.recent(clientKey(address));
    if (recent.length < this.maxFailures) return;
    const oldest = recent[0] ?? this.now();
    throw new RateLimitedError(Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000)));
  }

  /** Records a failure; true exactly when this one used up the budget (the start of a burst). */
  recordFailure(address: string): boolean {
    const key = clientKey(address);
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.delete(key);
    this.failures.set(key, recent);
    while (this.failures.size > this.maxClients) {
      const oldest = this.failures.keys().next();
      if (oldest.done) break;
      this.failures.delete(oldest.value);
    }
    return recent.length === this.maxFailures;
  }

  private recent(key: string): number[] {
    const list = this.failures.get(key);
    if (!list) return [];
    const cutoff = this.now() - this.windowMs;
    const kept = list.filter((at) => at > cutoff).slice(-this.maxFailures);
    if (kept.length === 0) this.failures.delete(key);
    else if (kept.length !== list.length) this.failures.set(key, kept);
    return kept;
  }
}

/** IPv4 addresses as they are; IPv6 by their /64 prefix; anything else (`unknown`, `desktop`) as written. */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (without a zone), as lowercase hex without leading zeros. */
function expandIpv6(address: string): string[] {
  const withoutZone = address.split('%')[0] ?? address;
  let text = withoutZone.toLowerCase();
  // An embedded IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) becomes two groups.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...fill, ...tailGroups].map((group) => Number.parseInt(group, 16).toString(16));
}
