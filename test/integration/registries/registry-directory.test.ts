import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startServe } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newCore(): Core {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  const core = createCore({ dataDir: temp.dir, shell: 'headless', logger: silentLogger });
  cleanups.push(() => core.close());
  return core;
}

const context = { origin: 'test' } as const;

describe('registries in Settings', () => {
  it('keeps keys out of settings, tests a live registry, and forgets keys on removal', async () => {
    const core = newCore();
    const remote = makeTempDir();
    cleanups.push(remote.cleanup);
    const host = await startServe(['--port', '0', '--data-dir', remote.dir]);
    cleanups.push(() => host.stop());
    const origin = new URL(host.url).origin;

    const saved = await core.router.dispatch('registries.save', { id: 'team', label: 'Team registry', url: `${origin}/`, apiKey: 'tdk_secret_value_123' }, context);
    if (!saved.ok) throw new Error(JSON.stringify(saved));
    expect(saved).toMatchObject({ ok: true, result: [{ id: 'local', builtIn: true }, { id: 'team', url: origin, hasApiKey: true }] });
    const settingsText = readFileSync(path.join(core.dataDir, 'settings.json'), 'utf8');
    expect(settingsText).not.toContain('tdk_secret_value_123');
    expect(core.secrets.get('registry.team.apiKey')).toBe('tdk_secret_value_123');

    expect(await core.router.dispatch('registries.test', { id: 'team' }, context)).toMatchObject({ ok: true, result: { ok: true, message: expect.stringContaining('Reachable') } });
    await core.router.dispatch('registries.setDefault', { id: 'team' }, context);
    expect(core.settings.get().defaultRegistryId).toBe('team');

    await host.stop();
    expect(await core.router.dispatch('registries.test', { id: 'team' }, context)).toMatchObject({ ok: true, result: { ok: false } });

    const removed = await core.router.dispatch('registries.remove', { id: 'team' }, context);
    if (!removed.ok) throw new Error(JSON.stringify(removed));
    expect(removed).toMatchObject({ ok: true, result: [{ id: 'local', isDefault: true }] });
    expect(core.secrets.get('registry.team.apiKey')).toBeUndefined();
  });

  it('refuses bad input and the built-in registry', async () => {
    const core = newCore();
    expect(await core.router.dispatch('registries.save', { id: 'x', label: 'X', url: 'not a url' }, context)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await core.router.dispatch('registries.save', { id: 'local', label: 'X', url: 'http://127.0.0.1:1' }, context)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await core.router.dispatch('registries.save', { id: 'Bad Id', label: 'X', url: 'http://127.0.0.1:1' }, context)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await core.router.dispatch('registries.remove', { id: 'nope' }, context)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await core.router.dispatch('registries.test', { id: 'local' }, context)).toMatchObject({ ok: true, result: { ok: false } });
    expect(core.settings.get().registries).toEqual([]);
  });
});
