import type { IncomingMessage, ServerResponse } from 'node:http';
import { DepotError, toErrorEnvelope, type ErrorCode } from '../../shared/errors';
import { RateLimitedError } from '../services/access/failed-auth-limiter';

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
  RATE_LIMITED: 429,
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
export function sendError(response: ServerResponse, error: unknown): void {
  const envelope = toErrorEnvelope(error);
  const status = error instanceof DepotError ? (error.reason === 'method-not-allowed' ? 405 : statusByCode[error.code]) : 500;
  const headers: Record<string, string> = {};
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="torsh-depot"';
  if (error instanceof RateLimitedError) headers['Retry-After'] = String(error.retryAfterSeconds);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, status, { error: envelope }, headers);
}

/**
 * After answering early (401, 413…) to a request whose body was not read: let the client finish
 * sending a bounded amount so it can read the answer, then cut the connection.
 */
export function discardUnreadBody(request: IncomingMessage, maxBytes = 64 * 1024 * 1024, maxMs = 5_000): void {
  if (request.readableEnded) return;
  let seen = 0;
  const timer = setTimeout(() => request.destroy(), maxMs);
  timer.unref();
  request.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > maxBytes) request.destroy();
  });
  request.on('end', () => clearTimeout(timer));
  request.on('close', () => clearTimeout(timer));
  request.resume();
}

export function requireMethod(method: string, allowed: string[]): void {
  if (!allowed.includes(method)) throw new DepotError('VALIDATION_FAILED', `Method ${method} is not allowed here (use ${allowed.join(' or ')}).`, { reason: 'method-not-allowed' });
}
