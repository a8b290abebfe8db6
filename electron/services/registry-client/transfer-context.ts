import type { AttemptTimer } from './attempt-timer';
import { networkError } from './registry-errors';
import { cancelledError } from '../retry/retry-backoff';

/** What the transfer code needs from the client: its fetch, headers and retry policy. */
export interface TransferContext {
  readonly fetchImpl: typeof fetch;
  readonly origin: string;
  readonly timeoutMs: number;
  readonly retries: number;
  /** Read `http:` downloads through the plain-socket reader (fetch still handles https and redirects). */
  readonly rawHttp: boolean;
  /** Downloads announced at least this large hash and write on a worker thread. */
  readonly workerSinkFromBytes: number;
  headers(extra?: Record<string, string>): Record<string, string>;
  /** Waits the backoff delay before retry number `attempt + 1` (rejects CANCELLED on abort). */
  backoff(attempt: number, signal: AbortSignal | undefined): Promise<void>;
}

/**
 * After a failure without an HTTP answer: CANCELLED if the caller aborted, else wait and let the
 * caller retry while attempts remain, else UNAVAILABLE.
 */
export async function retryAfterNetworkError(context: TransferContext, attempt: number, error: unknown, timer: AttemptTimer, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw cancelledError();
  const cause = timer.timedOut() ? new Error(`no answer within ${context.timeoutMs} ms`) : error;
  if (attempt >= context.retries) throw networkError(context.origin, cause);
  await context.backoff(attempt, signal);
}
