import { DepotError, errorCodes, type ErrorCode } from '../../../shared/errors';

const maxErrorBodyChars = 64 * 1024;

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (errorCodes as readonly string[]).includes(value);
}

/** Status first (it is what HTTP promises), the server's code only to refine a 400 or an unusual status. */
export function codeForStatus(status: number, serverCode: ErrorCode | null): ErrorCode {
  switch (status) {
    case 400:
      return serverCode === 'INVALID_PACKAGE' || serverCode === 'DIGEST_MISMATCH' ? serverCode : 'VALIDATION_FAILED';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
    case 410:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    default:
      if (status >= 500) return 'UNAVAILABLE';
      return serverCode ?? 'VALIDATION_FAILED';
  }
}

export function isRetryableStatus(status: number): boolean {
  return status >= 500;
}

/**
 * A registry answers 404 for a package the caller may not see, exactly as for one that does not
 * exist: without a key, say that a key might help.
 */
export const missingKeyHint = 'If it is internal or private, pass --api-key with a key that may see it.';

/**
 * Reads a failed response's `{"error": {code, message}}` and keeps the server's message. `withKey`:
 * whether the request carried an API key (unknown: treated as without, so a 404 gets the hint).
 */
export async function errorFromResponse(response: Response, context: string, options: { withKey?: boolean } = {}): Promise<DepotError> {
  let serverCode: ErrorCode | null = null;
  let serverMessage: string | null = null;
  try {
    const text = (await response.text()).slice(0, maxErrorBodyChars);
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (isErrorCode(body.error?.code)) serverCode = body.error.code;
    if (typeof body.error?.message === 'string' && body.error.message.trim() !== '') serverMessage = body.error.message;
  } catch {
    // Not our JSON (a proxy's HTML page, an empty body): the status alone has to do.
  }
  let message = serverMessage ?? `${context}: the registry answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`;
  if (response.status === 404 && options.withKey !== true) message = `${message.replace(/\.?$/, '.')} ${missingKeyHint}`;
  return new DepotError(codeForStatus(response.status, serverCode), message, { reason: `http-${response.status}` });
}

/** A failure with no HTTP answer at all: refused, reset, DNS, TLS, timed out. */
export function networkError(origin: string, error: unknown): DepotError {
  return new DepotError('UNAVAILABLE', `Cannot reach the registry at ${origin}: ${describeNetworkCause(error)}.`, { reason: 'network', cause: error });
}

function describeNetworkCause(error: unknown): string {
  // undici wraps the socket error: `TypeError: fetch failed` with the real one in `cause`.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const { cause } = current as Error & { cause?: unknown };
    if (!(cause instanceof Error)) break;
    current = cause;
  }
  if (current instanceof AggregateError && current.errors[0] instanceof Error) current = current.errors[0];
  if (current instanceof Error) {
    const code = (current as NodeJS.ErrnoException).code;
    return code && !current.message.includes(code) ? `${current.message} (${code})` : current.message;
  }
  return String(current);
}
