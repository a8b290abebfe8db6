import { DepotError } from '../../../shared/errors';
import type { RegistryClient } from '../registry-client/registry-client';
import type { CdnPackageSource } from './cdn-origin';

/**
 * A registry over HTTP as the source of `cdn upload`: the caller's key reads the version; an
 * anonymous read tells whether it is public (anonymous may read it), internal (a key is needed)
 * or private (hidden) — exactly what a public origin would expose.
 */
export function registryPackageSource(client: RegistryClient, anonymous: RegistryClient): CdnPackageSource {
  return {
    async describe(name, version, signal) {
      const metadata = await client.getVersion(name, version, signal ? { signal } : {});
      let visibility: 'public' | 'internal' | 'private' = 'public';
      try {
        await anonymous.getVersion(name, version, signal ? { signal } : {});
      } catch (error) {
        if (!(error instanceof DepotError) || !['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND'].includes(error.code)) throw error;
        visibility = error.code === 'UNAUTHORIZED' ? 'internal' : 'private';
      }
      return { size: metadata.size, digest: metadata.digest, visibility };
    },
    async fetchBlob(name, version, destPath, signal) {
      await client.download(name, version, destPath, signal ? { signal } : {});
    },
    signature: (name, version, signal) => client.getSignature(name, version, undefined, signal ? { signal } : {}),
    async versions(name, signal) {
      const listing = await client.listVersions(name, signal ? { signal } : {});
      return listing.versions.map((entry) => ({ version: entry.version, size: entry.size, digest: entry.digest, yanked: entry.yanked }));
    },
  };
}
