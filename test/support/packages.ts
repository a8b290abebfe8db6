import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packPackage } from '../../electron/services/packages/format';

export interface TestPackageSpec {
  name: string;
  version: string;
  description?: string;
  /** entry path (e.g. `models/weights.pt`) → content, or a byte count of random data. */
  files?: Record<string, string | number>;
  dependencies?: Record<string, string>;
  metadata?: Record<string, string>;
}

/** Builds a real .torshpkg with our writer into `dir`; returns its path. */
export async function makeTestPackage(dir: string, spec: TestPackageSpec): Promise<string> {
  const sourceDir = path.join(dir, `src-${randomBytes(4).toString('hex')}`);
  const files = spec.files ?? { 'models/weights.pt': 4096, 'config/model.yaml': 'layers: 4\n' };
  const inputs = Object.entries(files).map(([entryPath, content]) => {
    const sourcePath = path.join(sourceDir, entryPath);
    mkdirSync(path.dirname(sourcePath), { recursive: true });
    writeFileSync(sourcePath, typeof content === 'number' ? randomBytes(content) : content);
    return { sourcePath, entryPath };
  });
  const output = path.join(dir, `${spec.name.replace('/', '__')}-${spec.version}-${randomBytes(3).toString('hex')}.torshpkg`);
  await packPackage(
    {
      name: spec.name,
      version: spec.version,
      files: inputs,
      description: spec.description ?? null,
      ...(spec.dependencies ? { dependencies: spec.dependencies } : {}),
      ...(spec.metadata ? { metadata: spec.metadata } : {}),
    },
    output,
  );
  return output;
}
