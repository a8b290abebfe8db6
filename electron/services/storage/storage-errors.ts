import { DepotError, type ErrorCode } from '../../../shared/errors';

/** What went wrong in a storage call, independent of the backend that said it. */
export type StorageErrorKind = 'NotFound' | 'AccessDenied' | 'Unavailable' | 'Conflict' | 'InvalidConfig';

const codeOf: Record<StorageErrorKind, ErrorCode> = {
  NotFound: 'NOT_FOUND',
  AccessDenied: 'FORBIDDEN',
  Unavailable: 'UNAVAILABLE',
  Conflict: 'CONFLICT',
  InvalidConfig: 'VALIDATION_FAILED',
};

/**
 * A typed storage failure. It is a DepotError, so it crosses IPC and HTTP with a proper code;
 * the backend's own message is kept in the text (and `backendMessage`) for the operator.
 */
export class StorageError extends DepotError {
  readonly kind: StorageErrorKind;
  readonly backendMessage: string | null;

  constructor(kind: StorageErrorKind, message: string, options: { backendMessage?: string | null; cause?: unknown } = {}) {
    const backendMessage = options.backendMessage ?? null;
    super(codeOf[kind], backendMessage && !message.includes(backendMessage) ? `${message}: ${backendMessage}` : message, {
      reason: `storage-${kind.replace(/[A-Z]/g, (letter, index: number) => (index === 0 ? '' : '-') + letter.toLowerCase())}`,
      cause: options.cause,
    });
    this.name = 'StorageError';
    this.kind = kind;
    this.backendMessage = backendMessage;
  }
}

/** Transient failures are worth a retry; the others will fail the same way again. */
export function isTransientStorageError(error: unknown): boolean {
  return error instanceof StorageError && error.kind === 'Unavailable';
}

const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/** Network-level errors (no HTTP answer at all) from any SDK. */
export function isNetworkError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && unreachableCodes.has(code)) return true;
    if (current.name === 'TimeoutError' || /socket hang up|ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Maps an HTTP status from an object-store answer to a storage error kind. */
export function kindForHttpStatus(status: number | undefined): StorageErrorKind {
  if (status === 404) return 'NotFound';
  if (status === 401 || status === 403) return 'AccessDenied';
  if (status === 409 || status === 412) return 'Conflict';
  if (status === 400) return 'InvalidConfig';
  return 'Unavailable';
}
