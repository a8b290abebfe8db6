import path from 'node:path';
import { type ResourceType } from '../../../../shared/packages/manifest';

/** Folders with one type each, as the reference exporter writes them. */
const singleTypeFolders: Readonly<Record<string, ResourceType>> = {
  models: 'Model',
  src: 'Source',
  data: 'Data',
  config: 'Config',
  docs: 'Documentation',
};

/** The reference puts every other type under `resources/`. */
export const sharedResourceFolder = 'resources';
const sharedFolderTypes: readonly ResourceType[] = ['License', 'Binary', 'Text', 'Metadata'];

export const typeFolderNames: readonly string[] = [...Object.keys(singleTypeFolders), sharedResourceFolder];

export function typeFolderFor(type: ResourceType): string {
  switch (type) {
    case 'Model':
      return 'models';
    case 'Source':
      return 'src';
    case 'Data':
      return 'data';
    case 'Config':
      return 'config';
    case 'Documentation':
      return 'docs';
    case 'License':
    case 'Binary':
    case 'Text':
    case 'Metadata':
      return sharedResourceFolder;
  }
}

/** The reference's `ResourceType::from_extension` (case-insensitive), Data when nothing matches. */
export function resourceTypeFromExtension(filePath: string): ResourceType {
  const extension = path.posix.extname(filePath.replace(/\\/g, '/')).slice(1).toLowerCase();
  switch (extension) {
    case 'model':
    case 'pth':
    case 'pt':
    case 'torsh':
      return 'Model';
    case 'rs':
      return 'Source';
    case 'json':
      return 'Metadata';
    case 'toml':
    case 'yaml':
    case 'yml':
      return 'Config';
    case 'md':
    case 'rst':
      return 'Documentation';
    case 'txt':
    case 'license':
      return 'License';
    case 'bin':
    case 'dat':
      return 'Binary';
    default:
      return 'Data';
  }
}

/** The first path segment when it is one of the typed folders, else null. */
export function typeFolderOf(entryPath: string): string | null {
  const slash = entryPath.indexOf('/');
  if (slash <= 0) return null;
  const folder = entryPath.slice(0, slash);
  return typeFolderNames.includes(folder) ? folder : null;
}

/**
 * Folder first, then extension, as the reference importer does — except inside
 * `resources/`, where only License/Binary/Text/Metadata can have been written: an
 * extension that maps elsewhere means the type was lost, and Binary assumes least.
 */
export function resourceTypeForEntryPath(entryPath: string): ResourceType {
  const folder = typeFolderOf(entryPath);
  if (folder !== null && folder !== sharedResourceFolder) return singleTypeFolders[folder] ?? 'Data';
  const byExtension = resourceTypeFromExtension(entryPath);
  if (folder === sharedResourceFolder) {
    if (sharedFolderTypes.includes(byExtension)) return byExtension;
    return /^(licen[cs]e|copying|notice)\b/i.test(path.posix.basename(entryPath)) ? 'License' : 'Binary';
  }
  return byExtension;
}

/** The manifest `name` of an entry: the path below its type folder, sub-paths kept; the whole path when untyped. */
export function resourceNameForEntryPath(entryPath: string): string {
  const folder = typeFolderOf(entryPath);
  return folder === null ? entryPath : entryPath.slice(folder.length + 1);
}

/** Where a manifest resource of this type and name lives in the ZIP. */
export function entryPathForResource(type: ResourceType, name: string): string {
  return `${typeFolderFor(type)}/${name}`;
}

/** True when an entry at this path can carry this type (the folder agrees with it). */
export function typeMatchesFolder(type: ResourceType, entryPath: string): boolean {
  return typeFolderOf(entryPath) === typeFolderFor(type);
}
