import { createCore, type Core } from '../../electron/services/composition-root';
import { silentLogger } from '../../electron/services/logger';
import { makeTempDir } from './temp-dir';

/**
 * A headless core on a fresh data folder plus a scratch folder; both go away with the test's cleanups
 * (the core closes first).
 */
export function newTestCore(cleanups: Array<() => unknown>): { core: Core; work: string; dataDir: string } {
  const data = makeTempDir();
  const work = makeTempDir();
  cleanups.push(data.cleanup, work.cleanup);
  const core = createCore({ dataDir: data.dir, shell: 'headless', logger: silentLogger });
  cleanups.push(() => core.close());
  return { core, work: work.dir, dataDir: data.dir };
}
