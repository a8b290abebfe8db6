import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { acquireDataDirLock, DataDirInUseError } from '../../../../electron/services/fs/data-dir-lock';
import { createCore } from '../../../../electron/services/composition-root';
import { silentLogger } from '../../../../electron/services/logger';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('data folder lock', () => {
  it('refuses a second core on the same folder and frees it on close', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const core = createCore({ dataDir: temp.dir, shell: 'headless', logger: silentLogger });
    expect(() => createCore({ dataDir: temp.dir, shell: 'headless', logger: silentLogger })).toThrow(DataDirInUseError);
    await core.close();
    expect(existsSync(path.join(temp.dir, 'torsh-depot.lock'))).toBe(false);
    const again = createCore({ dataDir: temp.dir, shell: 'headless', logger: silentLogger });
    await again.close();
  });

  it('takes over a lock whose process is gone', () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    // A pid that existed and exited: certainly not alive now.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(path.join(temp.dir, 'torsh-depot.lock'), dead);
    const lock = acquireDataDirLock(temp.dir);
    lock.release();
  });

  it('a live other process keeps its lock', () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    writeFileSync(path.join(temp.dir, 'torsh-depot.lock'), String(process.ppid));
    expect(() => acquireDataDirLock(temp.dir)).toThrow(/in use by another Torsh Depot \(process \d+\)/);
  });
});
