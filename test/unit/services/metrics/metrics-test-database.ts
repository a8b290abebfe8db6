import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { openDatabase } from '../../../../electron/services/database/open-database';
import { migrations } from '../../../../electron/services/database/migrations';
import { makeTempDir } from '../../../support/temp-dir';

/** A migrated product database in a temp folder; call the returned cleanup in afterEach. */
export function openMetricsTestDatabase(): { db: Database; cleanup: () => void } {
  const temp = makeTempDir('torsh-depot-metrics-');
  const db = openDatabase(path.join(temp.dir, 'test.sqlite'), migrations);
  return {
    db,
    cleanup: () => {
      db.close();
      temp.cleanup();
    },
  };
}

/** A clock the test moves by hand. */
export function fakeClock(start: number): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let current = start;
  return { now: () => current, advance: (ms) => void (current += ms), set: (ms) => void (current = ms) };
}
