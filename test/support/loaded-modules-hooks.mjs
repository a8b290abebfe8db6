// Module hooks (registered by loaded-modules-preload.mjs, run on Node's hooks thread): every module the
// ESM loader resolves, `import()` of a package included, is appended to the file as a URL.
import { appendFileSync } from 'node:fs';

let target = null;

export function initialize(data) {
  target = data.target;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (target) appendFileSync(target, `${resolved.url}\n`);
  return resolved;
}
