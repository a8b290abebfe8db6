import { cdnBlobKey, cdnIndexKey, cdnSignatureKey, packageSurrogateKey, versionSurrogateKey, type CdnSection, type PurgeReport, type PurgeTarget } from '../../../shared/domain/cdn';
import type { Logger } from '../logger';
import type { CdnProvider } from './providers/cdn-provider';
import { edgeObjectPath } from './route-decision';

/** Runs one purge through a provider and reports every URL/tag, the API calls it took and its time. */
export async function runPurge(
  provider: CdnProvider,
  target: PurgeTarget,
  options: { retry: CdnSection['retry']; logger?: Logger; signal?: AbortSignal; random?: () => number },
): Promise<PurgeReport> {
  const started = performance.now();
  const counter = { apiCalls: 0, retries: 0 };
  const results = await provider.purge(
    { urls: target.urls, tags: target.tags, soft: target.soft, ...(options.signal ? { signal: options.signal } : {}) },
    { retry: options.retry, counter, ...(options.random ? { random: options.random } : {}) },
  );
  const failed = results.filter((result) => !result.ok).length;
  // Counts only: URLs may carry signed query strings and errors never include headers.
  options.logger?.info(`cdn purge via ${provider.name}: ${results.length - failed} ok, ${failed} failed, ${counter.apiCalls} calls`);
  return { provider: provider.name, results, apiCalls: counter.apiCalls, retries: counter.retries, durationMs: performance.now() - started };
}

/**
 * What purging a package (or one version) means for a provider: its surrogate key, plus the
 * objects' URLs under the origin's public base; CloudFront, which has no tags, gets a path wildcard.
 */
export function packagePurgeTarget(section: CdnSection, name: string, version: string | undefined, soft: boolean): PurgeTarget {
  const base = (section.origin.base_url ?? section.edges[0]?.endpoint ?? '').replace(/\/+$/, '');
  if (section.provider === 'cloudfront') {
    const prefix = version === undefined ? `packages/${name}/*` : `packages/${name}/${version}/*`;
    return { urls: [`${base}/${prefix}`], tags: [], soft };
  }
  const tag = version === undefined ? packageSurrogateKey(name) : versionSurrogateKey(name, version);
  // With serve as the origin an edge holds the download path; on object storage, the version's three objects.
  const paths = section.origin.storage === 'registry' ? [edgeObjectPath(section, name, version ?? '').slice(1)] : [cdnBlobKey(name, version ?? ''), cdnSignatureKey(name, version ?? ''), cdnIndexKey(name)];
  const urls = version === undefined || base === '' ? [] : paths.map((key) => `${base}/${key}`);
  return { urls, tags: [tag], soft };
}
