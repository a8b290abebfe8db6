import { describe, expect, it } from 'vitest';
import { SettingsService } from '../../../electron/services/settings/settings-service';
import { ElectronStoreSettingsBackend, openElectronStoreSettingsBackend, type WholeObjectStore } from '../../../electron/shell/electron-store-settings-backend';

/** electron-store's `store` accessor: the whole object, replaced on assignment (as conf does). */
class FakeStore implements WholeObjectStore {
  static opened: Array<{ name: string }> = [];
  writes = 0;
  private data: Record<string, unknown> = {};
  constructor(options: { name: string }) {
    FakeStore.opened.push(options);
  }
  get store(): Record<string, unknown> {
    return structuredClone(this.data);
  }
  set store(value: Record<string, unknown>) {
    this.writes += 1;
    this.data = structuredClone(value);
  }
}

describe('ElectronStoreSettingsBackend', () => {
  it('opens the "settings" store through the loader and round-trips preferences', async () => {
    FakeStore.opened = [];
    const backend = await openElectronStoreSettingsBackend(async () => FakeStore);
    expect(FakeStore.opened).toEqual([{ name: 'settings' }]);

    const settings = new SettingsService(backend);
    expect(settings.get().theme).toBe('system');
    await settings.update({ theme: 'dark', notifications: false });
    expect(new SettingsService(backend).get()).toMatchObject({ theme: 'dark', notifications: false });
  });

  it('reads store.store and writes by replacing store.store', async () => {
    const store = new FakeStore({ name: 'settings' });
    const backend = new ElectronStoreSettingsBackend(store);
    expect(backend.read()).toEqual({});
    await backend.write({ theme: 'light' });
    expect(store.writes).toBe(1);
    expect(backend.read()).toEqual({ theme: 'light' });
  });
});
