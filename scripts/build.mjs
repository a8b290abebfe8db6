// Builds every shell from one source tree: the renderer with Vite, the Electron main process,
// the sandboxed preload and the CLI/headless host with esbuild.
import { build as esbuild } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const only = process.argv.slice(2);
const wants = (name) => only.length === 0 || only.includes(name);

const nodeTarget = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // Runtime dependencies stay external: better-sqlite3 is native and must load from node_modules.
  external: ['electron', ...Object.keys(pkg.dependencies ?? {})],
  define: { __TORSH_DEPOT_VERSION__: JSON.stringify(pkg.version) },
};

const tasks = [];
if (wants('main') && existsSync(path.join(root, 'electron/main.ts'))) {
  tasks.push(esbuild({ ...nodeTarget, entryPoints: [path.join(root, 'electron/main.ts')], outfile: path.join(root, 'dist/electron/main.cjs') }));
}
if (wants('preload') && existsSync(path.join(root, 'electron/preload.ts'))) {
  // A sandboxed preload may only require('electron'): bundle everything else into it.
  tasks.push(esbuild({ ...nodeTarget, external: ['electron'], entryPoints: [path.join(root, 'electron/preload.ts')], outfile: path.join(root, 'dist/electron/preload.cjs') }));
}
if (wants('cli') && existsSync(path.join(root, 'electron/cli.ts'))) {
  tasks.push(esbuild({ ...nodeTarget, entryPoints: [path.join(root, 'electron/cli.ts')], outfile: path.join(root, 'dist/cli.cjs') }));
}
await Promise.all(tasks);

if (wants('renderer') && existsSync(path.join(root, 'renderer/index.html'))) {
  const { build: viteBuild } = await import('vite');
  await viteBuild({ configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' });
}
