import { failoverConfigSchema, type FailoverConfig } from '../../../shared/domain/mirrors';
import type { BestUrlAnswer, CacheOutcome, CdnSection } from '../../../shared/domain/cdn';
import type { DownloadSource, ExpectedBlob, MirrorDownloadEvent, MirrorDownloadResult, MultiSourceOptions } from '../mirrors/download/download-types';
import { downloadFromSources } from '../mirrors/download/multi-source-download';
import { cacheOutcomeOf } from './cache-outcome';
import { edgeObjectPath } from './route-decision';

export interface EdgeDownloadOptions {
  /** Where the object sits on an edge: the section's origin, or the path itself (a client knows only the registry's answer). */
  section: Pick<CdnSection, 'origin'> | { objectPath: string };
  /** The edges ranked for this client (`CdnService.bestUrl`); only eligible ones are used, best first. */
  answer: BestUrlAnswer;
  /** The registry's metadata: the bytes must have this digest and size, whoever serves them. */
  expected: ExpectedBlob;
  /** The registry's own download, used once no edge is left. */
  registry?: DownloadSource;
  /** The mirrors' failover settings (stall timeout, minimum rate, retries). */
  failover?: FailoverConfig;
  signal?: AbortSignal;
  onEvent?: (event: MirrorDownloadEvent) => void;
  fetchImpl?: typeof fetch;
  onResponse?: MultiSourceOptions['onResponse'];
}

export interface EdgeDownloadResult extends MirrorDownloadResult {
  /** What each edge said of its first answer (X-Cache, CF-Cache-Status, Age …). */
  outcomes: Map<string, CacheOutcome>;
}

/**
 * A download through the CDN's edges with the mirrors' failover downloader: one edge at a time (an
 * edge is a cache, not a swarm), the next edge taking over with Range from the first missing byte
 * when one dies or stalls, the registry last; the SHA-256 is checked over the whole file.
 */
export async function downloadViaEdges(destPath: string, options: EdgeDownloadOptions): Promise<EdgeDownloadResult> {
  const { answer } = options;
  const edges = answer.ranking.filter((entry) => entry.eligible);
  const objectPath = 'objectPath' in options.section ? options.section.objectPath : edgeObjectPath(options.section, answer.name, answer.version);
  const sources: DownloadSource[] = edges.map((entry) => ({ id: entry.edgeId, url: `${entry.url.replace(/\/+$/, '')}${objectPath}` }));
  if (options.registry) sources.push({ ...options.registry, lastResort: true });
  const outcomes = new Map<string, CacheOutcome>();
  const result = await downloadFromSources(sources, destPath, {
    expected: options.expected,
    failover: options.failover ?? failoverConfigSchema.parse({}),
    maxParallelSources: 1,
    // Each edge's cache verdict, from its first good answer's headers.
    onResponse: (id, response) => {
      if (!outcomes.has(id) && response.status >= 200 && response.status < 300) outcomes.set(id, cacheOutcomeOf(response.headers));
      options.onResponse?.(id, response);
    },
    ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  return { ...result, outcomes };
}
