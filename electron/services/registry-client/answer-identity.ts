import semver from 'semver';
import { DepotError } from '../../../shared/errors';
import { isStrictSemver, isValidPackageName } from '../../../shared/packages/manifest';
import type { PackageVersionMetadata } from '../../../shared/domain/registry';

/**
 * A registry's answer names the package that was asked for: the same name, and the asked version or one
 * the asked range allows. Checked before anything uses the answer (file names, signature checks, cache
 * entries): a hostile registry or a man in the middle on plain http could otherwise substitute another
 * package (and a signature check would then bind to its name) or send a version like `1.0.0/../../x`.
 */
export function assertAnswerFor(metadata: PackageVersionMetadata, asked: { name: string; version?: string; range?: string }): PackageVersionMetadata {
  const shown = (text: string): string => JSON.stringify(text.slice(0, 120));
  if (!isValidPackageName(metadata.name) || !isStrictSemver(metadata.version)) {
    throw new DepotError('INVALID_PACKAGE', `The registry answered with an invalid package name or version (${shown(metadata.name)}, ${shown(metadata.version)}); nothing was written.`, { reason: 'answer-invalid' });
  }
  if (metadata.name !== asked.name) {
    throw new DepotError('INVALID_PACKAGE', `Asked for ${asked.name}, the registry answered with ${metadata.name}; nothing was written.`, { reason: 'answer-mismatch' });
  }
  const range = asked.range?.trim() || '*';
  const fits = asked.version !== undefined ? metadata.version === asked.version : metadata.version === range || semver.satisfies(metadata.version, range);
  if (!fits) {
    throw new DepotError('INVALID_PACKAGE', `Asked for ${asked.name}@${asked.version ?? asked.range ?? '*'}, the registry answered with version ${metadata.version}; nothing was written.`, { reason: 'answer-mismatch' });
  }
  return metadata;
}
