// esbuild options shared by every Node bundle (main process, CLI, benchmarks).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const packageJson = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8'));

export const nodeBundleOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // Runtime dependencies stay external: better-sqlite3 is native and must load from node_modules.
  external: ['electron', ...Object.keys(packageJson.dependencies ?? {})],
  define: { __TORSH_DEPOT_VERSION__: JSON.stringify(packageJson.version) },
};
