import { create } from 'zustand';
import type { CacheStatsView } from '../../../shared/domain/cache';
import { requireClient } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';

interface CacheStore {
  stats: CacheStatsView | null;
  error: string | null;
  lastClean: string | null;
  refresh(): Promise<void>;
  clean(): Promise<void>;
}

export const useCacheStore = create<CacheStore>((set, get) => ({
  stats: null,
  error: null,
  lastClean: null,
  async refresh() {
    try {
      set({ stats: await requireClient().request('cache.stats', {}), error: null });
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
  async clean() {
    try {
      const result = await requireClient().request('cache.clean', {});
      set({ lastClean: `Removed ${result.removedEntries} ${result.removedEntries === 1 ? 'package' : 'packages'}.`, error: null });
      await get().refresh();
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
}));
