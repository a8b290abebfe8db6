// Builds every shell from one source tree: the renderer with Vite, the Electron main process,
// the sandboxed preload and the CLI/headless host with esbuild.
import { build as esbuild } from 'esbuild';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { nodeBundleOptions as nodeTarget, projectRoot as root } from './node-bundle-options.mjs';

const only = process.argv.slice(2);
const wants = (name) => only.length === 0 || only.includes(name);

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
