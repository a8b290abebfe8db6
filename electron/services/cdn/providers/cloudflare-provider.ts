import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { PurgeItemResult } from '../../../../shared/domain/cdn';
import { inBatches, sendPurgeRequest } from '../purge-http-client';
import { answerProblem, failedResults, safeJson, type CdnProvider, type ProviderAnalytics, type ProviderContext, type PurgeRequest } from './cdn-provider';

export interface CloudflareProviderConfig {
  zoneId: string;
  apiToken: string;
  /** `https://api.cloudflare.com/client/v4` unless overridden. */
  endpoint: string;
  /** Operations (URLs or tags) per purge call. */
  batchSize: number;
}

const envelopeSchema = z.object({
  success: z.boolean(),
  errors: z.array(z.object({ code: z.number().optional(), message: z.string() })).default([]),
  result: z.object({ id: z.string() }).nullable().optional(),
});

const analyticsSchema = z.object({
  data: z
    .object({
      viewer: z.object({
        zones: z.array(
          z.object({
            httpRequestsAdaptiveGroups: z.array(
              z.object({ count: z.number(), sum: z.object({ edgeResponseBytes: z.number() }), dimensions: z.object({ cacheStatus: z.string() }) }),
            ),
          }),
        ),
      }),
    })
    .nullable(),
  errors: z.array(z.object({ message: z.string() })).nullable().optional(),
});

/** Cache statuses Cloudflare counts as served from its cache. */
const cachedStatuses = new Set(['hit', 'stale', 'updating', 'revalidated']);

/**
 * Cloudflare: `POST /zones/{zone_id}/purge_cache` with `{"files": [...]}` or `{"tags": [...]}`,
 * at most `batchSize` operations per call (100 on every plan); analytics from the GraphQL API.
 */
export class CloudflareProvider implements CdnProvider {
  readonly name = 'cloudflare' as const;

  constructor(private readonly config: CloudflareProviderConfig) {}

  async purge(request: PurgeRequest, context: ProviderContext): Promise<PurgeItemResult[]> {
    const results: PurgeItemResult[] = [];
    for (const batch of inBatches(request.urls, this.config.batchSize)) results.push(...(await this.purgeBatch('url', batch, request, context)));
    for (const batch of inBatches(request.tags, this.config.batchSize)) results.push(...(await this.purgeBatch('tag', batch, request, context)));
    return results;
  }

  private async purgeBatch(kind: 'url' | 'tag', batch: string[], request: PurgeRequest, context: ProviderContext): Promise<PurgeItemResult[]> {
    const body = kind === 'url' ? { files: batch } : { tags: batch };
    const response = await sendPurgeRequest(
      { method: 'POST', url: `${this.base()}/zones/${encodeURIComponent(this.config.zoneId)}/purge_cache`, headers: this.headers(), body: JSON.stringify(body) },
      context.counter,
      { retry: context.retry, ...(request.signal ? { signal: request.signal } : {}), ...(context.random ? { random: context.random } : {}) },
    );
    const parsed = envelopeSchema.safeParse(safeJson(response.text));
    if (response.status === 200 && parsed.success && parsed.data.success) {
      const id = parsed.data.result?.id ?? null;
      return batch.map((target) => ({ kind, target, ok: true, id, error: null, via: 'cloudflare' }));
    }
    const message = parsed.success && parsed.data.errors.length > 0 ? parsed.data.errors.map((error) => `${error.code ?? ''} ${error.message}`.trim()).join('; ') : answerProblem(response.status, response.text);
    return failedResults(kind, batch, message, 'cloudflare');
  }

  async analytics(since: Date, until: Date, context: ProviderContext): Promise<ProviderAnalytics> {
    const query = `query CacheAnalytics($zoneTag: string, $since: Time, $until: Time) {
  viewer {
    zones(filter: { zoneTag: $zoneTag }) {
      httpRequestsAdaptiveGroups(limit: 100, filter: { datetime_geq: $since, datetime_lt: $until }) {
        count
        sum { edgeResponseBytes }
        dimensions { cacheStatus }
      }
    }
  }
}`;
    const body = JSON.stringify({ query, variables: { zoneTag: this.config.zoneId, since: since.toISOString(), until: until.toISOString() } });
    const response = await sendPurgeRequest({ method: 'POST', url: `${this.base()}/graphql`, headers: this.headers(), body }, context.counter, { retry: context.retry });
    const parsed = analyticsSchema.safeParse(safeJson(response.text));
    if (response.status !== 200 || !parsed.success || !parsed.data.data) {
      const why = parsed.success && parsed.data.errors?.length ? parsed.data.errors.map((error) => error.message).join('; ') : answerProblem(response.status, response.text);
      throw new Error(`Cloudflare analytics: ${why}`);
    }
    const analytics: ProviderAnalytics = { provider: 'cloudflare', since: since.toISOString(), until: until.toISOString(), requests: 0, cachedRequests: 0, bytes: 0, cachedBytes: 0, byCacheStatus: {} };
    for (const zone of parsed.data.data.viewer.zones) {
      for (const group of zone.httpRequestsAdaptiveGroups) {
        const status = group.dimensions.cacheStatus;
        const entry = (analytics.byCacheStatus[status] ??= { requests: 0, bytes: 0 });
        entry.requests += group.count;
        entry.bytes += group.sum.edgeResponseBytes;
        analytics.requests += group.count;
        analytics.bytes += group.sum.edgeResponseBytes;
        if (cachedStatuses.has(status)) {
          analytics.cachedRequests += group.count;
          analytics.cachedBytes += group.sum.edgeResponseBytes;
        }
      }
    }
    return analytics;
  }

  private base(): string {
    return this.config.endpoint.replace(/\/+$/, '');
  }

  private headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.config.apiToken}`, 'Content-Type': 'application/json' };
  }
}

/**
 * A URL for Cloudflare token authentication: `verify=<unix seconds>-<base64 HMAC-SHA256(secret,
 * path + seconds)>`, which a WAF rule checks with `is_timed_hmac_valid_v0(secret, …, ttl, …)`.
 */
export function signCloudflareTokenUrl(resource: string, secret: string, issuedAtSeconds: number): string {
  const url = new URL(resource);
  const mac = createHmac('sha256', secret).update(`${url.pathname}${issuedAtSeconds}`).digest('base64');
  url.searchParams.set('verify', `${issuedAtSeconds}-${mac}`);
  return url.toString();
}
