import { create } from 'zustand';
import type { StorageBackendConfigInput, StorageBackendView, StorageObjectView, StorageSecretName, StorageStats } from '../../../shared/domain/storage';
import { requireClient } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';

export interface UsageView {
  objects: number;
  bytes: number;
  capacityBytes: number | null;
}

interface BrowserState {
  backendId: string;
  prefix: string;
  objects: StorageObjectView[];
  /** Cursors of the pages before this one (for "Previous"); the last is this page's own. */
  cursors: Array<string | null>;
  nextCursor: string | null;
  loading: boolean;
  selected: StorageObjectView | null;
}

interface StorageStore {
  backends: StorageBackendView[];
  stats: StorageStats[];
  error: string | null;
  testResults: Record<string, { ok: boolean; message: string }>;
  usage: Record<string, UsageView | 'loading' | { error: string }>;
  browser: BrowserState | null;
  refresh(): Promise<void>;
  save(config: StorageBackendConfigInput, secrets: Partial<Record<StorageSecretName, string>>): Promise<boolean>;
  remove(id: string): Promise<void>;
  test(id: string): Promise<void>;
  loadUsage(id: string): Promise<void>;
  browse(backendId: string, prefix: string): Promise<void>;
  nextPage(): Promise<void>;
  previousPage(): Promise<void>;
  select(key: string): Promise<void>;
  copy(key: string, targetIds: string[]): Promise<string | null>;
  /** Starts blob garbage collection (a job); its id, or null when refused. */
  collectGarbage(dryRun: boolean, graceSeconds: number): Promise<string | null>;
  /** The registry-blob settings (a new blob store takes effect at the next start). */
  blobSettings: { blobStoreBackendId: string; presignedDownloads: boolean } | null;
  loadBlobSettings(): Promise<void>;
  updateBlobSettings(patch: Partial<{ blobStoreBackendId: string; presignedDownloads: boolean }>): Promise<void>;
}

const pageSize = 50;

export const useStorageStore = create<StorageStore>((set, get) => {
  const loadPage = async (backendId: string, prefix: string, cursors: Array<string | null>): Promise<void> => {
    set({ browser: { ...(get().browser ?? { objects: [], nextCursor: null, selected: null }), backendId, prefix, cursors, loading: true } });
    try {
      const page = await requireClient().request('storage.browse', { id: backendId, prefix, cursor: cursors.at(-1) ?? null, limit: pageSize });
      set({ browser: { backendId, prefix, cursors, objects: page.objects, nextCursor: page.nextCursor, loading: false, selected: null }, error: null });
    } catch (error) {
      set({ browser: { backendId, prefix, cursors, objects: [], nextCursor: null, loading: false, selected: null }, error: errorMessage(error) });
    }
  };
  return {
    backends: [],
    stats: [],
    error: null,
    testResults: {},
    usage: {},
    browser: null,
    blobSettings: null,
    async loadBlobSettings() {
      try {
        const { storage } = await requireClient().request('settings.get', {});
        set({ blobSettings: { blobStoreBackendId: storage.blobStoreBackendId, presignedDownloads: storage.presignedDownloads } });
      } catch (error) {
        set({ error: errorMessage(error) });
      }
    },
    async updateBlobSettings(patch) {
      try {
        const client = requireClient();
        const { storage } = await client.request('settings.get', {});
        const next = await client.request('settings.update', { storage: { ...storage, ...patch } });
        set({ blobSettings: { blobStoreBackendId: next.storage.blobStoreBackendId, presignedDownloads: next.storage.presignedDownloads }, error: null });
      } catch (error) {
        set({ error: errorMessage(error) });
      }
    },
    async refresh() {
      try {
        const client = requireClient();
        const [backends, stats] = await Promise.all([client.request('storage.list', {}), client.request('storage.stats', {})]);
        set({ backends, stats, error: null });
      } catch (error) {
        set({ error: errorMessage(error) });
      }
    },
    async save(config, secrets) {
      try {
        set({ backends: await requireClient().request('storage.save', { config, secrets }), error: null });
        return true;
      } catch (error) {
        set({ error: errorMessage(error) });
        return false;
      }
    },
    async remove(id) {
      try {
        set({ backends: await requireClient().request('storage.remove', { id }), error: null });
      } catch (error) {
        set({ error: errorMessage(error) });
      }
    },
    async test(id) {
      set({ testResults: { ...get().testResults, [id]: { ok: false, message: 'Testing…' } } });
      try {
        const result = await requireClient().request('storage.test', { id });
        set({ testResults: { ...get().testResults, [id]: { ok: result.ok, message: `${result.message} (${Math.round(result.latencyMs)} ms)` } } });
      } catch (error) {
        set({ testResults: { ...get().testResults, [id]: { ok: false, message: errorMessage(error) } } });
      }
      await get().refresh();
    },
    async loadUsage(id) {
      set({ usage: { ...get().usage, [id]: 'loading' } });
      try {
        const usage = await requireClient().request('storage.usage', { id });
        set({ usage: { ...get().usage, [id]: usage } });
      } catch (error) {
        set({ usage: { ...get().usage, [id]: { error: errorMessage(error) } } });
      }
    },
    browse: (backendId, prefix) => loadPage(backendId, prefix, [null]),
    async nextPage() {
      const browser = get().browser;
      if (!browser?.nextCursor) return;
      await loadPage(browser.backendId, browser.prefix, [...browser.cursors, browser.nextCursor]);
    },
    async previousPage() {
      const browser = get().browser;
      if (!browser || browser.cursors.length < 2) return;
      await loadPage(browser.backendId, browser.prefix, browser.cursors.slice(0, -1));
    },
    async select(key) {
      const browser = get().browser;
      if (!browser) return;
      try {
        const info = await requireClient().request('storage.head', { id: browser.backendId, key });
        set({ browser: { ...browser, selected: info }, error: info ? null : `${key} no longer exists.` });
      } catch (error) {
        set({ error: errorMessage(error) });
      }
    },
    async collectGarbage(dryRun, graceSeconds) {
      try {
        const job = await requireClient().request('storage.collectGarbage', { dry_run: dryRun, grace_seconds: graceSeconds });
        set({ error: null });
        return job.id;
      } catch (error) {
        set({ error: errorMessage(error) });
        return null;
      }
    },
    async copy(key, targetIds) {
      const browser = get().browser;
      if (!browser) return null;
      try {
        const job = await requireClient().request('storage.copy', { sourceId: browser.backendId, key, targetIds });
        return job.id;
      } catch (error) {
        set({ error: errorMessage(error) });
        return null;
      }
    },
  };
});
