import type { LoadedCommand } from './run-command';

/**
 * The commands that move big files, loaded on their own: a `torsh-depot sign` process pays for sign's
 * imports only, not for every command's (zod schemas, the cloud SDKs, SQLite …), which took ~0.7 s
 * and ~80 MiB before the first byte (docs/benchmarks.md, hot paths). Anything else, and any
 * `--help`, goes through runCli.
 */
export const hotCommands: Record<string, () => Promise<LoadedCommand>> = {
  pack: lazy(() => import('./commands/pack-command'), (loaded) => ({ run: loaded.packCommand, usage: loaded.packUsage })),
  sign: lazy(() => import('./commands/sign-command'), (loaded) => ({ run: loaded.signCommand, usage: loaded.signUsage })),
  verify: lazy(() => import('./commands/verify-command'), (loaded) => ({ run: loaded.verifyCommand, usage: loaded.verifyUsage })),
  encrypt: lazy(() => import('./commands/encrypt-command'), (loaded) => ({ run: loaded.encryptCommand, usage: loaded.encryptUsage })),
  decrypt: lazy(() => import('./commands/encrypt-command'), (loaded) => ({ run: loaded.decryptCommand, usage: loaded.decryptUsage })),
  pull: lazy(() => import('./commands/pull-command'), (loaded) => ({ run: loaded.pullCommand, usage: loaded.pullUsage })),
  backup: lazy(() => import('./commands/backup-command'), (loaded) => ({ run: loaded.backupCommand, usage: loaded.backupUsage })),
};

function lazy<Module>(load: () => Promise<Module>, pick: (loaded: Module) => LoadedCommand): () => Promise<LoadedCommand> {
  return async () => pick(await load());
}

/** The hot command `argv` names, unless it asks for help; undefined: go through runCli. */
export function hotCommandOf(argv: readonly string[]): (() => Promise<LoadedCommand>) | undefined {
  const [name, ...rest] = argv;
  if (name === undefined || rest.includes('--help') || rest.includes('-h')) return undefined;
  return Object.hasOwn(hotCommands, name) ? hotCommands[name] : undefined;
}
