import { afterEach, describe, expect, it } from 'vitest';
import { createCore } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { createEmbeddedRegistry } from '../../../electron/shell/embedded-registry';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('embedded registry of the desktop app', () => {
  it('is off by default, serves the API on 127.0.0.1 when enabled, and stops when disabled', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const core = createCore({ dataDir: temp.dir, shell: 'desktop', logger: silentLogger });
    cleanups.push(() => core.close());
    const registry = createEmbeddedRegistry(core, silentLogger);
    cleanups.push(() => registry.close());

    await registry.sync();
    expect(core.registryEndpoint.url()).toBeNull();

    await core.settings.update({ registry: { ...core.settings.get().registry, serveFromDesktop: true, desktopPort: 0 } });
    await registry.sync();
    const url = core.registryEndpoint.url();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/api/v1/health`);
    expect(health.status).toBe(200);
    // API only: the UI and its contract never leave the desktop's IPC.
    expect((await fetch(`${url}/`)).status).toBe(401);

    await core.settings.update({ registry: { ...core.settings.get().registry, serveFromDesktop: false } });
    await registry.sync();
    expect(core.registryEndpoint.url()).toBeNull();
    await expect(fetch(`${url}/api/v1/health`)).rejects.toThrow();
  });
});
