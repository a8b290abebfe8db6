import type { z } from 'zod';
import type { CdnProviderName, PurgeItemResult, PurgeRetry, providerAnalyticsSchema } from '../../../../shared/domain/cdn';
import type { PurgeCallCounter } from '../purge-http-client';

/** What to purge: full URLs, surrogate keys / cache tags, and whether a soft purge is enough. */
export interface PurgeRequest {
  urls: readonly string[];
  tags: readonly string[];
  soft: boolean;
  signal?: AbortSignal;
}

export interface ProviderContext {
  retry: PurgeRetry;
  counter: PurgeCallCounter;
  random?: () => number;
}

/** The provider's own traffic figures (Cloudflare GraphQL analytics), shown next to ours. */
export type ProviderAnalytics = z.infer<typeof providerAnalyticsSchema>;

/** One CDN's purge API (and analytics when it has one). Never logs or returns a secret. */
export interface CdnProvider {
  readonly name: CdnProviderName;
  purge(request: PurgeRequest, context: ProviderContext): Promise<PurgeItemResult[]>;
  analytics?(since: Date, until: Date, context: ProviderContext): Promise<ProviderAnalytics>;
}

export function failedResults(kind: 'url' | 'tag', targets: readonly string[], error: string, via: string): PurgeItemResult[] {
  return targets.map((target) => ({ kind, target, ok: false, id: null, error, via }));
}

/** A short, secret-free description of a provider's error answer. */
export function answerProblem(status: number, text: string): string {
  return `HTTP ${status}${text ? `: ${text.replace(/\s+/g, ' ').slice(0, 300)}` : ''}`;
}

/** A provider's JSON answer, or null when it sent something else (an HTML error page, say). */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
