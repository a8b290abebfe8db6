import type { CacheOutcome } from '../../../shared/domain/cdn';

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : (value ?? null);
}

/** The last comma-separated entry: Fastly lists shield then edge, and the edge (nearest the client) is last. */
function last(value: string): string {
  return value.split(',').at(-1)?.trim() ?? '';
}

const cloudflareHits = new Set(['HIT', 'STALE', 'UPDATING', 'REVALIDATED']);
const cloudflareMisses = new Set(['MISS', 'EXPIRED', 'BYPASS', 'DYNAMIC']);

/**
 * Whether an edge answered from its cache, read from what the edge says: `CF-Cache-Status`
 * (Cloudflare), `X-Cache` (Varnish, CloudFront `Hit from cloudfront`, Fastly `HIT, MISS`),
 * `X-Cache-Hits` (Fastly, Varnish), then `Age` > 0 (any shared cache, RFC 9111 §5.1).
 */
export function cacheOutcomeOf(headers: HeaderSource): CacheOutcome {
  const cloudflare = header(headers, 'cf-cache-status');
  if (cloudflare) {
    const status = cloudflare.trim().toUpperCase();
    if (cloudflareHits.has(status)) return 'hit';
    if (cloudflareMisses.has(status)) return 'miss';
  }
  const xCache = header(headers, 'x-cache');
  if (xCache) {
    const status = last(xCache).toUpperCase();
    if (status.startsWith('HIT') || status.startsWith('REFRESHHIT')) return 'hit';
    if (status.startsWith('MISS') || status.startsWith('PASS') || status.startsWith('REFRESHMISS')) return 'miss';
  }
  const hits = header(headers, 'x-cache-hits');
  if (hits && /^\d+$/.test(last(hits))) return Number(last(hits)) > 0 ? 'hit' : 'miss';
  const age = header(headers, 'age');
  if (age && /^\d+$/.test(age.trim())) return Number(age) > 0 ? 'hit' : 'unknown';
  return 'unknown';
}
