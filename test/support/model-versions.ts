import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packPackage } from '../../electron/services/packages/format';

export interface ModelVersionsSpec {
  name: string;
  versions: number;
  tensors: number;
  tensorBytes: number;
  /** Fraction of the tensors a fine-tune rewrites in each later version. */
  changeFraction: number;
}

/**
 * Versions of one model package the way fine-tunes produce them: each later version rewrites a few
 * tensors and edits a line of metadata; everything else is byte-identical. Returns the package paths.
 */
export async function makeModelVersions(dir: string, spec: ModelVersionsSpec): Promise<string[]> {
  const sourceDir = path.join(dir, `src-${spec.name}`);
  const tensorPaths = Array.from({ length: spec.tensors }, (_, index) => path.join(sourceDir, 'models', `layer-${String(index).padStart(3, '0')}.pt`));
  mkdirSync(path.join(sourceDir, 'models'), { recursive: true });
  mkdirSync(path.join(sourceDir, 'config'), { recursive: true });
  for (const file of tensorPaths) writeFileSync(file, randomBytes(spec.tensorBytes));
  const outputs: string[] = [];
  const changed = Math.max(1, Math.round(spec.tensors * spec.changeFraction));
  for (let version = 1; version <= spec.versions; version += 1) {
    if (version > 1) {
      for (let index = 0; index < changed; index += 1) {
        const target = tensorPaths[(version * 7 + index * 13) % tensorPaths.length];
        if (target) writeFileSync(target, randomBytes(spec.tensorBytes));
      }
    }
    const config = path.join(sourceDir, 'config', 'model.yaml');
    writeFileSync(config, `layers: ${spec.tensors}\nlearning_rate: 0.000${version}\nrevision: ${version}\n`);
    const output = path.join(dir, `${spec.name}-1.0.${version}.torshpkg`);
    await packPackage(
      {
        name: spec.name,
        version: `1.0.${version}`,
        files: [...tensorPaths.map((sourcePath) => ({ sourcePath, entryPath: `models/${path.basename(sourcePath)}` })), { sourcePath: config, entryPath: 'config/model.yaml' }],
        description: `fine-tune ${version}`,
      },
      output,
    );
    outputs.push(output);
  }
  return outputs;
}
