import type { SettingsBackend } from '../services/settings/settings-backend';

/** The one property of an electron-store (or conf) instance the backend uses: the whole object. */
export interface WholeObjectStore {
  store: Record<string, unknown>;
}

/** Preferences in electron-store (`settings.json` under userData, written atomically by conf). */
export class ElectronStoreSettingsBackend implements SettingsBackend {
  constructor(private readonly store: WholeObjectStore) {}

  read(): unknown {
    return this.store.store;
  }

  async write(value: Record<string, unknown>): Promise<void> {
    this.store.store = value;
  }
}

/** Loads electron-store; a parameter so tests never import it (it throws outside Electron). */
export type ElectronStoreLoader = () => Promise<new (options: { name: string }) => WholeObjectStore>;

/**
 * electron-store 11 is ESM-only with a default export, and main.cjs is CommonJS: load it with a
 * dynamic import (esbuild keeps `import()` as is), only inside the running Electron app.
 */
export const loadElectronStore: ElectronStoreLoader = async () => {
  const module = await import('electron-store');
  return module.default;
};

export async function openElectronStoreSettingsBackend(load: ElectronStoreLoader = loadElectronStore): Promise<ElectronStoreSettingsBackend> {
  const Store = await load();
  return new ElectronStoreSettingsBackend(new Store({ name: 'settings' }));
}
