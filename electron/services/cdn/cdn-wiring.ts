import type { Database } from 'better-sqlite3';
import type { AccessControl } from '../access/access-control';
import type { JobRunner } from '../jobs/job-runner';
import type { Logger } from '../logger';
import type { PrometheusRegistry } from '../metrics/prometheus-registry';
import { mirrorBlobPath, mirrorFileUrl } from '../mirrors/mirror-layout';
import type { MirrorManager } from '../mirrors/mirror-manager';
import type { ProbeRepository } from '../probes/probe-repository';
import type { Prober } from '../probes/prober';
import type { RegistryService } from '../registry/registry-service';
import { resolveSecretReference } from '../secrets/secret-reference';
import { parseBlobStoreUrl } from '../storage/blob-store-url';
import type { StorageManager } from '../storage/storage-manager';
import { SqliteCdnConfigRepository } from './cdn-config-repository';
import { CdnMetrics } from './cdn-metrics';
import { CdnService } from './cdn-service';
import { SqliteCdnStatsRepository } from './cdn-stats-repository';
import { localPackageSource } from './local-package-source';

export { CdnService } from './cdn-service';
export { edgeProbeKind as cdnEdgeProbeKind } from './cdn-edge-monitor';

/** The CDN service as the composition root builds it: SQLite repositories, the storage manager, this registry, the mirrors. */
export function createCdnService(deps: {
  db: Database;
  prober: Prober;
  probes: ProbeRepository;
  jobs: JobRunner;
  logger: Logger;
  prometheus: PrometheusRegistry;
  storage: StorageManager;
  registry: RegistryService;
  access: AccessControl;
  mirrors: MirrorManager;
  registryUrl: () => string | null;
}): CdnService {
  return new CdnService({
    repository: new SqliteCdnConfigRepository(deps.db),
    stats: new SqliteCdnStatsRepository(deps.db),
    prober: deps.prober,
    probes: deps.probes,
    jobs: deps.jobs,
    logger: deps.logger,
    metrics: new CdnMetrics(deps.prometheus),
    openOrigin: (url) => deps.storage.open(parseBlobStoreUrl(url, process.env), 'cdn-origin'),
    packageSource: () => localPackageSource(deps.registry, deps.access),
    resolveSecret: (reference, baseDir) => resolveSecretReference(reference, { env: process.env, baseDir }),
    registryUrl: deps.registryUrl,
    mirrorUrl: async (name, version, region) => {
      const best = (await deps.mirrors.rank({ name, version, ...(region ? { region } : {}) })).find((entry) => entry.eligible);
      return best ? mirrorFileUrl(best.url, mirrorBlobPath(name, version)).href : null;
    },
    failover: async () => (await deps.mirrors.settings()).failover,
    baseDir: process.cwd(),
  });
}
