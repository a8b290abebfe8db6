import { DepotError } from '../../../shared/errors';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

/** The registry client's defaults: 3 retries after the first attempt, 500 ms doubling, at most 15 s. */
export const defaultRetryPolicy = { retries: 3, baseMs: 500, maxMs: 15_000 } as const;

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * a uniform delay in [0, min(max, base * 2^attempt)) spreads retrying clients apart.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

export function cancelledError(): DepotError {
  return new DepotError('CANCELLED', 'The operation was cancelled.', { reason: 'aborted' });
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}

/** Waits `ms`, or rejects with CANCELLED as soon as the signal fires. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfCancelled(signal);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
