import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { DepotError, isAbortError } from '../../../shared/errors';

export interface BoundedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Time to the response head (what a health check calls latency). */
  latencyMs: number;
  /** Total time including the body. */
  totalMs: number;
  /** When the server's TLS certificate expires (https only). */
  tlsExpiresAt: string | null;
}

export interface BoundedGetOptions {
  /** The whole request, head and body, must finish within this. */
  timeoutMs: number;
  /** A body longer than this (announced or seen) is refused before or while reading it. */
  maxBytes: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Read the body only for these statuses (default: 2xx); others answer with an empty body. */
  readBodyFor?: (status: number) => boolean;
}

/**
 * One small GET (an index, a signature, a health probe) over node's http/https with a deadline and a
 * byte cap, reporting latency and the certificate's expiry. Errors are typed: UNAVAILABLE for network
 * failures and timeouts, PAYLOAD_TOO_LARGE (`too-large`) for oversize bodies, CANCELLED on abort.
 */
export function boundedHttpGet(url: URL, options: BoundedGetOptions): Promise<BoundedResponse> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new DepotError('VALIDATION_FAILED', `Only http:// and https:// URLs can be fetched, not ${url.protocol}`, { reason: 'bad-url' }));
  }
  const started = performance.now();
  return new Promise<BoundedResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, value?: BoundedResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        request.destroy();
        reject(error);
      } else resolve(value!);
    };
    const onAbort = (): void => finish(new DepotError('CANCELLED', 'The operation was cancelled.', { reason: 'aborted' }));
    const timer = setTimeout(
      () => finish(new DepotError('UNAVAILABLE', `${url.origin} did not answer within ${options.timeoutMs} ms.`, { reason: 'timeout' })),
      options.timeoutMs,
    );
    const client = url.protocol === 'https:' ? https : http;
    const request = client.get(url, { headers: { 'User-Agent': 'torsh-depot', Accept: '*/*', ...options.headers }, agent: false }, (response) => {
      const latencyMs = performance.now() - started;
      const status = response.statusCode ?? 0;
      let tlsExpiresAt: string | null = null;
      if (url.protocol === 'https:') {
        const certificate = (response.socket as TLSSocket).getPeerCertificate?.();
        if (certificate && certificate.valid_to) tlsExpiresAt = new Date(certificate.valid_to).toISOString();
      }
      const readBody = (options.readBodyFor ?? ((code: number) => code >= 200 && code < 300))(status);
      const announced = Number(response.headers['content-length'] ?? NaN);
      if (readBody && Number.isFinite(announced) && announced > options.maxBytes) {
        response.destroy();
        finish(new DepotError('PAYLOAD_TOO_LARGE', `${url.href} is ${announced} bytes, more than the ${options.maxBytes} allowed.`, { reason: 'too-large' }));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (!readBody) return;
        size += chunk.length;
        if (size > options.maxBytes) {
          response.destroy();
          finish(new DepotError('PAYLOAD_TOO_LARGE', `${url.href} is longer than the ${options.maxBytes} bytes allowed.`, { reason: 'too-large' }));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () =>
        finish(null, { status, headers: response.headers, body: Buffer.concat(chunks), latencyMs, totalMs: performance.now() - started, tlsExpiresAt }),
      );
      response.on('error', (error) => finish(networkError(url, error)));
      response.on('aborted', () => finish(new DepotError('UNAVAILABLE', `${url.origin} closed the connection mid-answer.`, { reason: 'connection-lost' })));
    });
    request.on('error', (error) => finish(isAbortError(error) ? error : networkError(url, error)));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function networkError(url: URL, error: Error): DepotError {
  const code = (error as NodeJS.ErrnoException).code;
  return new DepotError('UNAVAILABLE', `${url.origin} could not be reached: ${code ?? error.message}`, { reason: 'unreachable', cause: error });
}
