import { bestUrlAnswerSchema, type BestUrlAnswer, type CacheOutcome } from '../../../shared/domain/cdn';
import { DepotError } from '../../../shared/errors';
import type { MirrorDownloadEvent } from '../mirrors/download/download-types';
import { downloadViaEdges, type EdgeDownloadResult } from './cdn-download';

/** A client transfer through an edge, as reported back to the registry (`POST /api/v1/cdn/transfers`). */
export interface ClientTransferReport {
  name: string;
  version: string;
  edge_id: string;
  bytes: number;
  cache: CacheOutcome;
  duration_ms: number;
}

export interface ClientCdnDownloadOptions {
  /** The registry's origin (normalized, without `/api/v1`). */
  baseUrl: string;
  apiKey: string | null;
  name: string;
  version: string;
  /** From the registry's metadata: whoever serves the bytes, they must match. */
  expected: { sha256: string; size: number };
  destPath: string;
  signal?: AbortSignal;
  onEvent?: (event: MirrorDownloadEvent) => void;
  fetchImpl?: typeof fetch;
}

export interface ClientCdnDownload extends EdgeDownloadResult {
  /** The registry's `X-Torsh-Route` header that sent the client to the edges. */
  route: string;
  /** Transfers the registry counted (false when the report could not be delivered: the download still stands). */
  reported: boolean;
}

function packagePath(name: string, version: string): string {
  return `/api/v1/packages/${name.split('/').map(encodeURIComponent).join('/')}/${encodeURIComponent(version)}`;
}

/**
 * What `pull` does when the registry routes a download to the CDN: asks `download?route=auto` (a HEAD,
 * nothing is counted), and only when the answer is a redirect to an edge, fetches the ranked edges
 * (`/api/v1/cdn/best-url`), downloads with the failover downloader (the next edge resumes with Range,
 * the registry last), and reports each edge's bytes and cache verdict back for the statistics.
 * Null: the registry serves this download itself (no CDN, small or private package), as before.
 */
export async function downloadThroughCdn(options: ClientCdnDownloadOptions): Promise<ClientCdnDownload | null> {
  const fetchImpl = options.fetchImpl ?? globalThis.fetch;
  const auth: Record<string, string> = options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {};
  const downloadUrl = `${options.baseUrl}${packagePath(options.name, options.version)}/download`;
  const signal = options.signal;
  const asked = await fetchImpl(`${downloadUrl}?route=auto`, { method: 'HEAD', headers: auth, redirect: 'manual', ...(signal ? { signal } : {}) });
  const route = asked.headers.get('x-torsh-route') ?? '';
  if (asked.status !== 302 || !route.startsWith('cdn')) return null;

  const query = new URLSearchParams({ name: options.name, version: options.version });
  const ranked = await fetchImpl(`${options.baseUrl}/api/v1/cdn/best-url?${query.toString()}`, { headers: { ...auth, Accept: 'application/json' }, ...(signal ? { signal } : {}) });
  if (!ranked.ok) return null;
  const parsed = bestUrlAnswerSchema.safeParse(await ranked.json());
  if (!parsed.success) throw new DepotError('UNAVAILABLE', 'The registry answered /api/v1/cdn/best-url with something that is not a ranking.');
  const answer: BestUrlAnswer = parsed.data;
  const best = answer.ranking.find((entry) => entry.eligible && entry.edgeId === answer.edgeId);
  if (!best || !answer.url) return null;
  // Every edge holds the object under the same path: the best edge's URL without its base.
  const objectPath = answer.url.slice(best.url.replace(/\/+$/, '').length);

  const result = await downloadViaEdges(options.destPath, {
    section: { objectPath },
    answer,
    expected: options.expected,
    registry: { id: 'registry', url: downloadUrl, headers: auth },
    ...(signal ? { signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
  });
  const edgeIds = new Set(answer.ranking.map((entry) => entry.edgeId));
  const transfers: ClientTransferReport[] = result.mirrors
    .filter((usage) => usage.bytes > 0 && edgeIds.has(usage.id))
    .map((usage) => ({ name: options.name, version: options.version, edge_id: usage.id, bytes: usage.bytes, cache: result.outcomes.get(usage.id) ?? 'unknown', duration_ms: Math.round(result.durationMs) }));
  let reported = transfers.length === 0;
  if (transfers.length > 0) {
    // The statistics are a courtesy: a failed report never fails a verified download.
    reported = await fetchImpl(`${options.baseUrl}/api/v1/cdn/transfers`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ transfers }),
      ...(signal ? { signal } : {}),
    })
      .then(async (response) => {
        await response.arrayBuffer();
        return response.ok;
      })
      .catch(() => false);
  }
  return { ...result, route, reported };
}
