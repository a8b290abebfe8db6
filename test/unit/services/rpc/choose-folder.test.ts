import { afterEach, describe, expect, it } from 'vitest';
import { createCore } from '../../../../electron/services/composition-root';
import { silentLogger } from '../../../../electron/services/logger';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('app.chooseFolder', () => {
  it('asks the shell dialog when there is one and says UNAVAILABLE otherwise', async () => {
    const withDialogs = makeTempDir();
    const headless = makeTempDir();
    cleanups.push(withDialogs.cleanup, headless.cleanup);
    const titles: string[] = [];
    const desktop = createCore({
      dataDir: withDialogs.dir,
      shell: 'desktop',
      logger: silentLogger,
      dialogs: { chooseFolder: async (title) => (titles.push(title), '/home/user/models') },
    });
    const host = createCore({ dataDir: headless.dir, shell: 'headless', logger: silentLogger });
    cleanups.push(() => desktop.close(), () => host.close());
    expect(await desktop.router.dispatch('app.chooseFolder', { title: 'Save to…' }, { origin: 'test' })).toEqual({ ok: true, result: { path: '/home/user/models' } });
    expect(titles).toEqual(['Save to…']);
    expect(await host.router.dispatch('app.chooseFolder', {}, { origin: 'test' })).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
  });
});
