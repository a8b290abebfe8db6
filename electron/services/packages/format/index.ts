// The .torshpkg format: reading, verifying and writing packages (plain Node, no Electron).
export { type PackageLimits, defaultPackageLimits, resolvePackageLimits } from './zip-limits';
export {
  type PackageResourceInfo,
  type PackageInspection,
  type InspectPackageOptions,
  inspectPackage,
  openPackageEntry,
  manifestEntryName,
  sidecarSuffix,
} from './package-reader';
export { type PackInput, type PackInputFile, type PackOptions, type PackResult, packPackage, shouldStoreUncompressed } from './package-writer';
export { collectFolder } from './collect-folder';
export { type EntryPathDefect, entryPathDefect, isValidEntryPath, isDirectoryEntryName } from './entry-path';
export {
  resourceTypeFromExtension,
  resourceTypeForEntryPath,
  resourceNameForEntryPath,
  entryPathForResource,
  typeFolderFor,
  typeFolderNames,
} from './resource-type';
export { parseManifest, isValidVersionRange, normalizeVersionRange } from './manifest-parser';
export {
  type Manifest,
  type ManifestModule,
  type ManifestResource,
  type ManifestSignature,
  type ResourceType,
  resourceTypes,
  isValidPackageName,
  isStrictSemver,
} from '../../../../shared/packages/manifest';
