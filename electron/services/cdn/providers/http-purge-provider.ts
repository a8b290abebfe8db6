import type { CdnProviderName, PurgeItemResult } from '../../../../shared/domain/cdn';
import { DepotError } from '../../../../shared/errors';
import { sendPurgeRequest } from '../purge-http-client';
import { answerProblem, type CdnProvider, type ProviderContext, type PurgeRequest } from './cdn-provider';

export interface HttpPurgeEdge {
  id: string;
  endpoint: string;
}

export interface HttpPurgeProviderConfig {
  name: Extract<CdnProviderName, 'varnish' | 'generic-http'>;
  edges: readonly HttpPurgeEdge[];
  /** Header carrying the keys of a tag purge (`xkey-purge` for vmod xkey). */
  tagHeader: string;
  /** Sent as `X-Purge-Token` when set. */
  purgeToken?: string;
}

/**
 * Self-hosted edges (Varnish, or any cache that takes `PURGE`): every edge gets `PURGE <path>` for
 * a URL, and `PURGE /` with `xkey-purge: k1 k2` for surrogate keys (vmod xkey). Results are per
 * edge, so a down edge shows as such instead of hiding behind the others.
 */
export class HttpPurgeProvider implements CdnProvider {
  readonly name: Extract<CdnProviderName, 'varnish' | 'generic-http'>;

  constructor(private readonly config: HttpPurgeProviderConfig) {
    this.name = config.name;
  }

  async purge(request: PurgeRequest, context: ProviderContext): Promise<PurgeItemResult[]> {
    const options = { retry: context.retry, ...(request.signal ? { signal: request.signal } : {}), ...(context.random ? { random: context.random } : {}) };
    const token: Record<string, string> = this.config.purgeToken ? { 'X-Purge-Token': this.config.purgeToken } : {};
    const results: PurgeItemResult[] = [];
    for (const edge of this.config.edges) {
      const base = edge.endpoint.replace(/\/+$/, '');
      for (const target of request.urls) {
        const url = new URL(target);
        results.push(await this.call('url', target, edge.id, { method: 'PURGE', url: `${base}${url.pathname}${url.search}`, headers: token }, context, options));
      }
      if (request.tags.length > 0) {
        const joined = request.tags.join(' ');
        const outcome = await this.call('tag', joined, edge.id, { method: 'PURGE', url: `${base}/`, headers: { ...token, [this.config.tagHeader]: joined } }, context, options);
        results.push(...request.tags.map((target) => ({ ...outcome, target })));
      }
    }
    return results;
  }

  private async call(
    kind: 'url' | 'tag',
    target: string,
    via: string,
    call: { method: string; url: string; headers: Record<string, string> },
    context: ProviderContext,
    options: Parameters<typeof sendPurgeRequest>[2],
  ): Promise<PurgeItemResult> {
    try {
      const response = await sendPurgeRequest(call, context.counter, options);
      // 404 from a URL purge means "was not cached": the object is gone from this edge either way.
      const ok = response.status === 200 || response.status === 204 || (kind === 'url' && response.status === 404);
      return { kind, target, ok, id: null, error: ok ? null : answerProblem(response.status, response.text), via };
    } catch (error) {
      if (error instanceof DepotError && error.code === 'CANCELLED') throw error;
      return { kind, target, ok: false, id: null, error: (error as Error).message, via };
    }
  }
}
