import type { ServerResponse } from 'node:http';
import { DepotError, toErrorEnvelope, type ErrorCode } from '../../shared/errors';

const statusByCode: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNKNOWN_CHANNEL: 404,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_PACKAGE: 400,
  DIGEST_MISMATCH: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CANCELLED: 499,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  response.end(text);
}

/** `{"error": {"code", "message"}}` with the status the code implies. */
export function sendError(response: ServerResponse, error: unknown, options: { closeConnection?: boolean } = {}): void {
  const envelope = toErrorEnvelope(error);
  const status = error instanceof DepotError ? (error.reason === 'method-not-allowed' ? 405 : statusByCode[error.code]) : 500;
  const headers: Record<string, string> = {};
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="torsh-depot"';
  // An unread request body must not be drained (it may be gigabytes): close instead.
  if (options.closeConnection) headers.Connection = 'close';
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, status, { error: envelope }, headers);
}
