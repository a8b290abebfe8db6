import { DepotError } from '../../shared/errors';
import type { MetricsCollector } from '../services/metrics/metrics-collector';
import type { RegistryAuthorizer } from '../services/registry/registry-authorizer';
import { clientAddressOf, type ApiRouteHandler } from './http-host';
import { isLoopbackAddress } from './client-address';
import { sendError } from './http-json';

export interface MetricsRouteOptions {
  metrics: MetricsCollector;
  authorizer: RegistryAuthorizer;
  /** The `metrics.requireKeyForEndpoint` setting, read per request. */
  requireKey: () => boolean;
}

/**
 * `GET /metrics` in the Prometheus text format 0.0.4. Open to scrapers on this machine by default;
 * a key allowed the `stats` action is needed when the setting asks for it or the caller is remote.
 */
export function createMetricsRoute(options: MetricsRouteOptions): ApiRouteHandler {
  return async (request, response, url) => {
    if (url.pathname !== '/metrics') return false;
    try {
      const method = request.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') throw new DepotError('VALIDATION_FAILED', `Method ${method} is not allowed here (use GET).`, { reason: 'method-not-allowed' });
      const caller = clientAddressOf(request);
      // The real caller: behind a trusted proxy on this machine, a remote scraper still needs a key.
      if (options.requireKey() || !isLoopbackAddress(caller)) {
        options.authorizer.authorize(options.authorizer.authenticate(request.headers.authorization, caller), 'ViewStats');
      }
      const body = options.metrics.renderPrometheus();
      response.writeHead(200, {
        'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(body)),
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
      response.end(method === 'HEAD' ? undefined : body);
    } catch (error) {
      sendError(response, error);
    }
    return true;
  };
}
