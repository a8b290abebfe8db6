import { writeSync } from 'node:fs';

/**
 * A test-only hook: when `TORSH_DEPOT_CRASH_AT` names this point, the process dies here as `kill -9`
 * would kill it (no cleanup, no flush), so tests can prove what a crash at that moment leaves behind.
 * Unset (always, outside those tests) it does nothing.
 */
export function crashPoint(name: string): void {
  if (process.env.TORSH_DEPOT_CRASH_AT !== name) return;
  writeSync(2, `torsh-depot: crash point ${name}\n`);
  process.kill(process.pid, 'SIGKILL');
}
