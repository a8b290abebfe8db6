import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCore } from '../../../../electron/services/composition-root';
import { silentLogger } from '../../../../electron/services/logger';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('cache channels', () => {
  it('report the cache, honour a new cap from settings, and clean it', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    // A file in the cache folder with no index row is debris: reconcile removes it at start.
    mkdirSync(path.join(temp.dir, 'cache', 'sha256'), { recursive: true });
    writeFileSync(path.join(temp.dir, 'cache', 'sha256', 'a'.repeat(64)), 'stray');
    const core = createCore({ dataDir: temp.dir, shell: 'headless', logger: silentLogger });
    cleanups.push(() => core.close());
    const context = { origin: 'test' } as const;
    expect(await core.router.dispatch('cache.stats', {}, context)).toMatchObject({ ok: true, result: { entries: 0, bytes: 0, hits: 0, misses: 0 } });
    await core.settings.update({ cache: { maxBytes: 1024, offline: true } });
    expect(await core.router.dispatch('cache.stats', {}, context)).toMatchObject({ ok: true, result: { maxBytes: 1024 } });
    expect(await core.router.dispatch('cache.list', {}, context)).toEqual({ ok: true, result: [] });
    expect(await core.router.dispatch('cache.clean', {}, context)).toMatchObject({ ok: true, result: { removedEntries: 0 } });
    expect(await core.router.dispatch('cache.clean', { all: true }, context)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });
});
