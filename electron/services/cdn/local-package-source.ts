import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { AccessControl } from '../access/access-control';
import type { RegistryService } from '../registry/registry-service';
import type { CdnPackageSource } from './cdn-origin';

/**
 * This registry, in-process, as the source of a CDN upload (serve's `POST /api/v1/cdn/upload`, the
 * desktop): the version's stored bytes, its best signature and its package's visibility.
 */
export function localPackageSource(registry: RegistryService, access: AccessControl): CdnPackageSource {
  return {
    describe(name, version) {
      const metadata = registry.getVersion(name, version);
      const { visibility } = access.packageAccess(access.localPrincipal(), name);
      return Promise.resolve({ size: metadata.size, digest: metadata.digest, visibility });
    },
    async fetchBlob(name, version, destPath, signal) {
      const { stream } = await registry.openDownload(name, version);
      await pipeline(stream, createWriteStream(destPath, { flags: 'wx' }), ...(signal ? [{ signal }] : []));
    },
    signature(name, version) {
      try {
        return Promise.resolve(registry.getSignature(name, version));
      } catch {
        return Promise.resolve(null);
      }
    },
    versions(name) {
      return Promise.resolve(registry.listVersions(name).versions.map((entry) => ({ version: entry.version, size: entry.size, digest: entry.digest, yanked: entry.yanked })));
    },
  };
}
