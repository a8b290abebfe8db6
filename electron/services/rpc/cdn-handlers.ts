import type { Core } from '../composition-root';
import type { RequestHandlers } from './request-router';

type CdnChannel = Extract<keyof RequestHandlers, `cdn.${string}`>;

/** The `cdn.*` channels; the desktop acts as the local user (ManageInfrastructure is the HTTP API's check). */
export function createCdnHandlers(core: Omit<Core, 'router'>): Pick<RequestHandlers, CdnChannel> {
  return {
    'cdn.config.get': () => core.cdn.configView(),
    'cdn.config.set': async ({ cdn }) => {
      const saved = await core.cdn.replaceSection(cdn as never);
      core.access.record(core.access.localContext(), 'cdn.config', null, { provider: saved?.provider ?? null, edges: saved?.edges.length ?? 0 });
      return core.cdn.configView();
    },
    'cdn.edges': () => core.cdn.edges(),
    'cdn.edges.check': () => core.cdn.checkEdges(),
    'cdn.purge': async (request) => {
      const report = await core.cdn.purge(request);
      core.access.record(core.access.localContext(), 'cdn.purge', request.package ? `package:${request.package}${request.version ? `@${request.version}` : ''}` : null, {
        urls: request.urls.length,
        tags: request.tags.length,
        failed: report.results.filter((result) => !result.ok).length,
      });
      return report;
    },
    'cdn.upload': async ({ name, version }) => (await core.cdn.startUpload(name, version)).record,
    'cdn.bestUrl': ({ name, version, client_ip, region }) => core.cdn.bestUrl({ name, version, clientIp: client_ip ?? null, region: region ?? null }),
    'cdn.stats': ({ since, until, bucket_seconds }) => core.cdn.stats({ ...(since ? { since: new Date(since) } : {}), ...(until ? { until: new Date(until) } : {}), bucketSeconds: bucket_seconds }),
  };
}
