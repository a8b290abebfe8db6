import { z } from 'zod';
import type { PurgeItemResult } from '../../../../shared/domain/cdn';
import { inBatches, sendPurgeRequest } from '../purge-http-client';
import { answerProblem, failedResults, safeJson, type CdnProvider, type ProviderContext, type PurgeRequest } from './cdn-provider';

export interface FastlyProviderConfig {
  serviceId: string;
  apiKey: string;
  /** `https://api.fastly.com` unless overridden. */
  endpoint: string;
  /** Always soft-purge (mark stale) even when the request does not ask. */
  softPurge: boolean;
  /** Surrogate keys per batch call (at most 256). */
  batchSize: number;
}

const urlPurgeSchema = z.object({ status: z.string(), id: z.string() });
const keyPurgeSchema = z.record(z.string(), z.string());

/**
 * Fastly: a URL purge is `POST /purge/{host}/{path}` (one call per URL — Fastly has no batch URL
 * purge); surrogate keys go in batches of up to 256 to `POST /service/{service_id}/purge` with a
 * `Surrogate-Key` header. Both take `Fastly-Key`, and `Fastly-Soft-Purge: 1` for a soft purge.
 */
export class FastlyProvider implements CdnProvider {
  readonly name = 'fastly' as const;

  constructor(private readonly config: FastlyProviderConfig) {}

  async purge(request: PurgeRequest, context: ProviderContext): Promise<PurgeItemResult[]> {
    const soft = request.soft || this.config.softPurge;
    const options = { retry: context.retry, ...(request.signal ? { signal: request.signal } : {}), ...(context.random ? { random: context.random } : {}) };
    const results: PurgeItemResult[] = [];
    for (const target of request.urls) {
      const url = new URL(target);
      const response = await sendPurgeRequest({ method: 'POST', url: `${this.base()}/purge/${url.host}${url.pathname}${url.search}`, headers: this.headers(soft) }, context.counter, options);
      const parsed = urlPurgeSchema.safeParse(safeJson(response.text));
      results.push(
        response.status === 200 && parsed.success && parsed.data.status === 'ok'
          ? { kind: 'url', target, ok: true, id: parsed.data.id, error: null, via: 'fastly' }
          : { kind: 'url', target, ok: false, id: null, error: answerProblem(response.status, response.text), via: 'fastly' },
      );
    }
    for (const batch of inBatches(request.tags, this.config.batchSize)) {
      const response = await sendPurgeRequest(
        { method: 'POST', url: `${this.base()}/service/${encodeURIComponent(this.config.serviceId)}/purge`, headers: { ...this.headers(soft), 'Surrogate-Key': batch.join(' ') } },
        context.counter,
        options,
      );
      const parsed = keyPurgeSchema.safeParse(safeJson(response.text));
      if (response.status !== 200 || !parsed.success) {
        results.push(...failedResults('tag', batch, answerProblem(response.status, response.text), 'fastly'));
        continue;
      }
      // The answer maps each key to its purge id; a key missing from it was not purged.
      for (const target of batch) {
        const id = parsed.data[target];
        results.push(id ? { kind: 'tag', target, ok: true, id, error: null, via: 'fastly' } : { kind: 'tag', target, ok: false, id: null, error: 'Fastly did not confirm this key', via: 'fastly' });
      }
    }
    return results;
  }

  private base(): string {
    return this.config.endpoint.replace(/\/+$/, '');
  }

  private headers(soft: boolean): Record<string, string> {
    return { 'Fastly-Key': this.config.apiKey, Accept: 'application/json', ...(soft ? { 'Fastly-Soft-Purge': '1' } : {}) };
  }
}
