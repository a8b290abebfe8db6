import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { type PackInputFile } from './package-writer';
import { manifestEntryName, sidecarSuffix } from './package-reader';
import { resourceTypeForEntryPath, resourceTypeFromExtension, typeFolderFor, typeFolderNames } from './resource-type';

interface FoundFile {
  sourcePath: string;
  /** Forward-slash path below the folder, NFC: macOS hands out decomposed names, packages carry composed ones. */
  relative: string;
}

/**
 * Lists a folder's files for `packPackage`, keeping sub-paths. A top-level typed folder
 * (`models/`, `src/`, `data/`, `config/`, `docs/`, `resources/`) gives the type; any other
 * file is typed by extension and placed under that type's folder. Symlinks are skipped,
 * never followed, so a package never picks up files from outside `dir`.
 */
export async function collectFolder(dir: string): Promise<PackInputFile[]> {
  const found: FoundFile[] = [];
  await walk(path.resolve(dir), '', found);
  const present = new Set(found.map((file) => file.relative));

  const files: PackInputFile[] = [];
  for (const { sourcePath, relative } of found) {
    // A folder extracted from a package: its manifest and sidecars are rewritten by the packer.
    if (relative === manifestEntryName) continue;
    if (relative.endsWith(sidecarSuffix) && present.has(relative.slice(0, -sidecarSuffix.length))) continue;

    const slash = relative.indexOf('/');
    if (slash > 0 && typeFolderNames.includes(relative.slice(0, slash))) {
      files.push({ sourcePath, entryPath: relative, type: resourceTypeForEntryPath(relative) });
    } else {
      const type = resourceTypeFromExtension(relative);
      files.push({ sourcePath, entryPath: `${typeFolderFor(type)}/${relative}`, type });
    }
  }
  return files.sort((a, b) => ((a.entryPath ?? '') < (b.entryPath ?? '') ? -1 : 1));
}

async function walk(absoluteDir: string, relativeDir: string, out: FoundFile[]): Promise<void> {
  const entries = await fsp.readdir(absoluteDir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const absolute = path.join(absoluteDir, entry.name);
    const relative = `${relativeDir}${entry.name.normalize('NFC')}`;
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) await walk(absolute, `${relative}/`, out);
    else if (entry.isFile()) out.push({ sourcePath: absolute, relative });
  }
}
