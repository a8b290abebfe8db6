import type { PackageVersionMetadata } from '../../../shared/domain/registry';
import { downloadThroughCdn } from '../../services/cdn/cdn-client-download';
import type { DownloadResult } from '../../services/registry-client/resumable-download';
import type { CliIo } from '../cli-io';
import { formatBytes, type ProgressLine } from './command-options';

/**
 * `pull` through the CDN when the registry routes this version there (`download?route=auto`); null
 * when the registry serves it itself, so the usual download runs unchanged.
 */
export async function pullThroughCdn(
  baseUrl: string,
  apiKey: string | null,
  metadata: Pick<PackageVersionMetadata, 'name' | 'version' | 'digest' | 'size'>,
  landing: string,
  signal: AbortSignal,
  progress: ProgressLine,
  io: CliIo,
): Promise<DownloadResult | null> {
  const result = await downloadThroughCdn({
    baseUrl,
    apiKey,
    name: metadata.name,
    version: metadata.version,
    expected: { sha256: metadata.digest, size: metadata.size },
    destPath: landing,
    signal,
    onEvent: (event) => {
      if (event.type === 'progress') progress.update(event.bytes, event.total);
      else if (event.type === 'failover') io.stderr.write(`torsh-depot pull: edge ${event.mirror} failed at ${formatBytes(event.offset)} (${event.reason}); switching edge\n`);
    },
  });
  if (!result) return null;
  const parts = result.mirrors.filter((usage) => usage.bytes > 0).map((usage) => `${usage.id} ${formatBytes(usage.bytes)}${result.outcomes.has(usage.id) ? ` ${result.outcomes.get(usage.id) ?? ''}` : ''}`);
  io.stderr.write(`torsh-depot pull: via CDN (${result.route}): ${parts.join(', ')}${result.reported ? '' : '; transfer not reported to the registry'}\n`);
  return { path: result.path, digest: result.digest, size: result.size, resumedFrom: 0 };
}
