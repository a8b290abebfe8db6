import semver from 'semver';
import { DepotError } from '../../../shared/errors';
import { isValidPackageName } from '../../../shared/packages/manifest';

/** Files at a mirror's root (docs/formats/mirror-layout.md). */
export const mirrorIndexFile = 'index.json';
export const mirrorIndexSignatureFile = 'index.json.minisig';
export const mirrorPublicKeyFile = 'registry.pub';

/**
 * Where a version's blob sits on a mirror: `packages/<name>/<version>/<basename>-<version>.torshpkg`
 * (a scoped name `vision/resnet` keeps its scope folder; the file is named after its last segment).
 * Throws VALIDATION_FAILED (`unsafe-path`) for anything that is not a package name and strict semver,
 * so no index entry can point outside `packages/`.
 */
export function mirrorBlobPath(name: string, version: string): string {
  if (!isValidPackageName(name) || name.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new DepotError('VALIDATION_FAILED', `"${name.slice(0, 100)}" is not a package name a mirror path can be made from.`, { reason: 'unsafe-path' });
  }
  if (semver.valid(version) !== version || version.includes('/') || version.includes('..')) {
    throw new DepotError('VALIDATION_FAILED', `"${version.slice(0, 100)}" is not a strict semver version a mirror path can be made from.`, { reason: 'unsafe-path' });
  }
  const basename = name.slice(name.lastIndexOf('/') + 1);
  return `packages/${name}/${version}/${basename}-${version}.torshpkg`;
}

export function mirrorSignaturePath(name: string, version: string): string {
  return `${mirrorBlobPath(name, version)}.minisig`;
}

/** A mirror base URL with one trailing slash, so relative layout paths resolve under it. */
export function mirrorBaseUrl(url: string): URL {
  const base = new URL(url);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  base.search = '';
  base.hash = '';
  return base;
}

/** The URL of a layout path (`index.json`, a blob path) on a mirror. */
export function mirrorFileUrl(mirrorUrl: string, relativePath: string): URL {
  return new URL(relativePath, mirrorBaseUrl(mirrorUrl));
}
