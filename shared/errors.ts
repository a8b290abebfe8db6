import { z } from 'zod';

/** Every error that crosses a boundary (IPC, WebSocket, HTTP, CLI) carries one of these codes. */
export const errorCodes = [
  'VALIDATION_FAILED',
  'UNKNOWN_CHANNEL',
  'NOT_FOUND',
  'CONFLICT',
  'INVALID_PACKAGE',
  'DIGEST_MISMATCH',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'CANCELLED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** The typed envelope: a code, a human message, and optionally a finer machine-readable reason. */
export const errorEnvelopeSchema = z.object({
  code: z.enum(errorCodes),
  message: z.string(),
  reason: z.string().optional(),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

/** Base error of the whole product. `reason` names the precise cause (e.g. `zip-slip`). */
export class DepotError extends Error {
  readonly code: ErrorCode;
  readonly reason: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { reason?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DepotError';
    this.code = code;
    this.reason = options?.reason;
  }

  toEnvelope(): ErrorEnvelope {
    return this.reason === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, reason: this.reason };
  }
}

/** Turns anything thrown into an envelope without leaking stack traces or internals. */
export function toErrorEnvelope(error: unknown): ErrorEnvelope {
  if (error instanceof DepotError) return error.toEnvelope();
  if (isAbortError(error)) return { code: 'CANCELLED', message: 'The operation was cancelled.' };
  return { code: 'INTERNAL', message: 'An internal error occurred; see the host log for details.' };
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORT_ERR');
}
