import { create } from 'zustand';
import type { Settings, SettingsUpdate } from '../../../shared/domain/settings';
import { client, requireClient } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';

interface SettingsStore {
  settings: Settings | null;
  error: string | null;
  saving: boolean;
  load(): Promise<void>;
  update(update: SettingsUpdate): Promise<boolean>;
}

export const useSettingsStore = create<SettingsStore>((set) => ({
  settings: null,
  error: null,
  saving: false,
  async load() {
    if (!client) return;
    try {
      const settings = await client.request('settings.get', {});
      set({ settings, error: null });
      applyTheme(settings.theme);
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
  async update(update) {
    set({ saving: true });
    try {
      const settings = await requireClient().request('settings.update', update);
      set({ settings, error: null, saving: false });
      applyTheme(settings.theme);
      return true;
    } catch (error) {
      set({ error: errorMessage(error), saving: false });
      return false;
    }
  },
}));

const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');

export function applyTheme(theme: Settings['theme']): void {
  const resolved = theme === 'system' ? (darkQuery.matches ? 'dark' : 'light') : theme;
  document.documentElement.dataset.theme = resolved;
}

darkQuery.addEventListener('change', () => {
  const theme = useSettingsStore.getState().settings?.theme ?? 'system';
  if (theme === 'system') applyTheme('system');
});
