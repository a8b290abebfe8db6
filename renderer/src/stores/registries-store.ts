import { create } from 'zustand';
import type { RegistryView } from '../../../shared/contract/registries-channels';
import { requireClient } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';

interface RegistriesStore {
  registries: RegistryView[];
  error: string | null;
  testResults: Record<string, { ok: boolean; message: string }>;
  refresh(): Promise<void>;
  save(input: { id: string; label: string; url: string; apiKey?: string | null }): Promise<boolean>;
  remove(id: string): Promise<void>;
  setDefault(id: string): Promise<void>;
  test(id: string): Promise<void>;
}

export const useRegistriesStore = create<RegistriesStore>((set, get) => ({
  registries: [],
  error: null,
  testResults: {},
  async refresh() {
    try {
      set({ registries: await requireClient().request('registries.list', {}), error: null });
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
  async save(input) {
    try {
      set({ registries: await requireClient().request('registries.save', input), error: null });
      return true;
    } catch (error) {
      set({ error: errorMessage(error) });
      return false;
    }
  },
  async remove(id) {
    try {
      set({ registries: await requireClient().request('registries.remove', { id }), error: null });
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
  async setDefault(id) {
    try {
      set({ registries: await requireClient().request('registries.setDefault', { id }), error: null });
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
  async test(id) {
    set({ testResults: { ...get().testResults, [id]: { ok: false, message: 'Testing…' } } });
    try {
      const result = await requireClient().request('registries.test', { id });
      set({ testResults: { ...get().testResults, [id]: result } });
    } catch (error) {
      set({ testResults: { ...get().testResults, [id]: { ok: false, message: errorMessage(error) } } });
    }
  },
}));
