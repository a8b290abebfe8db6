// Loaded with `node --import` into a child process: lists every module the process loaded in
// $TORSH_DEPOT_LOADED_MODULES_FILE, one a line. `import()` goes through the ESM hooks (a URL per module),
// `require()` through the CommonJS cache (a path per module, written on exit).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const target = process.env.TORSH_DEPOT_LOADED_MODULES_FILE;
if (target) {
  register('./loaded-modules-hooks.mjs', import.meta.url, { data: { target } });
  const { cache } = createRequire(import.meta.url);
  process.on('exit', () => {
    appendFileSync(target, Object.keys(cache).map((file) => `${file}\n`).join(''));
  });
}
