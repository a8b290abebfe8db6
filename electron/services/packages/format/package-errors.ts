import { DepotError } from '../../../../shared/errors';

/** A format defect: the file is not a package we accept. `reason` is kebab-case and stable. */
export function invalidPackage(reason: string, message: string, cause?: unknown): DepotError {
  return new DepotError('INVALID_PACKAGE', message, cause === undefined ? { reason } : { reason, cause });
}

/** Bytes that hash to something other than what the package promises. */
export function digestMismatch(reason: string, message: string): DepotError {
  return new DepotError('DIGEST_MISMATCH', message, { reason });
}

/** Bad input to the writer (name, version, file list): nothing has been written yet. */
export function validationFailed(reason: string, message: string): DepotError {
  return new DepotError('VALIDATION_FAILED', message, { reason });
}

export function cancelledError(): DepotError {
  return new DepotError('CANCELLED', 'The operation was cancelled.', { reason: 'aborted' });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}
