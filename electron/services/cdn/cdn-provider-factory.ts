import type { CdnSection } from '../../../shared/domain/cdn';
import { DepotError } from '../../../shared/errors';
import type { CdnProvider } from './providers/cdn-provider';
import { CloudflareProvider } from './providers/cloudflare-provider';
import { CloudFrontProvider } from './providers/cloudfront-provider';
import { FastlyProvider } from './providers/fastly-provider';
import { HttpPurgeProvider } from './providers/http-purge-provider';

export type SecretResolver = (reference: string) => Promise<string>;

/** Builds the configured provider, resolving its secret references; `endpoint` overrides the API base (tests, proxies). */
export async function createCdnProvider(section: CdnSection, resolveSecret: SecretResolver, overrides: { endpoint?: string } = {}): Promise<CdnProvider> {
  switch (section.provider) {
    case 'cloudflare': {
      const settings = required(section.cloudflare, 'cloudflare');
      return new CloudflareProvider({ zoneId: settings.zone_id, apiToken: await resolveSecret(settings.api_token), endpoint: overrides.endpoint ?? settings.endpoint, batchSize: settings.batch_size });
    }
    case 'cloudfront': {
      const settings = required(section.cloudfront, 'cloudfront');
      return new CloudFrontProvider({
        distributionId: settings.distribution_id,
        accessKeyId: await resolveSecret(settings.access_key_id),
        secretAccessKey: await resolveSecret(settings.secret_access_key),
        endpoint: overrides.endpoint ?? settings.endpoint,
        batchSize: settings.batch_size,
        waitForCompletion: settings.wait_for_completion,
        waitTimeoutMs: settings.wait_timeout,
      });
    }
    case 'fastly': {
      const settings = required(section.fastly, 'fastly');
      return new FastlyProvider({ serviceId: settings.service_id, apiKey: await resolveSecret(settings.api_key), endpoint: overrides.endpoint ?? settings.endpoint, softPurge: settings.soft_purge, batchSize: settings.batch_size });
    }
    case 'varnish':
    case 'generic-http': {
      const edges = section.edges.filter((edge) => edge.enabled).map((edge) => ({ id: edge.id, endpoint: edge.endpoint }));
      const token = section.http_purge.purge_token;
      return new HttpPurgeProvider({ name: section.provider, edges, tagHeader: section.http_purge.tag_header, ...(token ? { purgeToken: await resolveSecret(token) } : {}) });
    }
  }
}

function required<T>(settings: T | undefined, name: string): T {
  if (settings === undefined) throw new DepotError('VALIDATION_FAILED', `cdn.${name} is missing for provider "${name}".`, { reason: 'cdn-config' });
  return settings;
}
