import { DepotError } from '../../../shared/errors';
import type { PurgeRetry } from '../../../shared/domain/cdn';
import { backoffDelayMs, sleep, throwIfCancelled } from '../retry/retry-backoff';

export interface PurgeHttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface PurgeHttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Counts what a purge cost: calls made (retries included) and retries alone. */
export interface PurgeCallCounter {
  apiCalls: number;
  retries: number;
}

export interface PurgeHttpClientOptions {
  retry: PurgeRetry;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
  random?: () => number;
}

/** The longest we honour a `Retry-After`: a provider asking for more is reported, not waited out. */
const maxRetryAfterMs = 120_000;

/**
 * One purge API call with retries: network errors, 5xx and 429 are retried with exponential
 * backoff and full jitter; a 429 or 503 `Retry-After` (seconds or HTTP date) is honoured instead.
 * Other 4xx answers come back to the caller. Headers are never put in error messages (they hold keys).
 */
export async function sendPurgeRequest(request: PurgeHttpRequest, counter: PurgeCallCounter, options: PurgeHttpClientOptions): Promise<PurgeHttpResponse> {
  const { retry, signal } = options;
  let lastProblem = '';
  for (let attempt = 0; attempt <= retry.max_retries; attempt += 1) {
    throwIfCancelled(signal);
    if (attempt > 0) counter.retries += 1;
    counter.apiCalls += 1;
    let response: Response;
    try {
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
      response = await fetch(request.url, {
        method: request.method,
        headers: request.headers ?? {},
        ...(request.body === undefined ? {} : { body: request.body }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      throwIfCancelled(signal);
      lastProblem = `${describeTarget(request)}: ${(error as Error).message}`;
      if (attempt < retry.max_retries) await sleep(backoffDelayMs(attempt, backoff(options)), signal);
      continue;
    }
    const text = await response.text();
    const retryable = response.status === 429 || response.status >= 500;
    if (!retryable || attempt === retry.max_retries) return { status: response.status, headers: response.headers, text };
    lastProblem = `${describeTarget(request)} answered ${response.status}`;
    const after = retryAfterMs(response.headers.get('retry-after'));
    if (after !== null && after > maxRetryAfterMs) return { status: response.status, headers: response.headers, text };
    await sleep(after ?? backoffDelayMs(attempt, backoff(options)), signal);
  }
  throw new DepotError('UNAVAILABLE', `Purge call failed after ${retry.max_retries + 1} attempts: ${lastProblem}`, { reason: 'purge-unreachable' });
}

function backoff(options: PurgeHttpClientOptions): { baseMs: number; maxMs: number; random?: () => number } {
  return { baseMs: options.retry.base_delay, maxMs: options.retry.max_delay, ...(options.random ? { random: options.random } : {}) };
}

/** `Retry-After: 3` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT` → milliseconds (RFC 9110 §10.2.3). */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Method, host and path only: query strings may carry tokens. */
function describeTarget(request: PurgeHttpRequest): string {
  try {
    const url = new URL(request.url);
    return `${request.method} ${url.host}${url.pathname}`;
  } catch {
    return request.method;
  }
}

/** Splits a list into batches of at most `size`. */
export function inBatches<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let index = 0; index < items.length; index += size) batches.push(items.slice(index, index + size));
  return batches;
}
