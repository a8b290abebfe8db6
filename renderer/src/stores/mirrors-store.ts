import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type { MirrorChanges } from '../../../shared/contract/mirrors-channels';
import type { MirrorConfig, MirrorRankEntry, MirrorsSettingsWritten, MirrorsStats, MirrorView, SelectionStrategy } from '../../../shared/domain/mirrors';
import { requireClient } from '../lib/client-instance';
import { errorMessage, type ContractClient } from '../lib/contract-client';

/** What the store needs of the contract client (tests hand it one wired to a real core). */
export type MirrorsClient = Pick<ContractClient, 'request'>;

export interface RankQuery {
  name: string;
  version: string;
  /** Empty: the host's configured client region. */
  region: string;
}

export type RankState =
  | { kind: 'idle' }
  | { kind: 'loading'; query: RankQuery }
  | { kind: 'ready'; query: RankQuery; entries: MirrorRankEntry[] }
  | { kind: 'error'; query: RankQuery; message: string };

export interface MirrorsStore {
  mirrors: MirrorView[];
  stats: MirrorsStats | null;
  settings: MirrorsSettingsWritten | null;
  /** False until the first list arrives (the screen shows its loading state until then). */
  loaded: boolean;
  /** When the last list arrived (epoch ms): "last check 12 s ago" is measured from it. */
  refreshedAt: number;
  /** The last failed load or action, shown above the table. */
  error: string | null;
  /** Mirrors with a check in flight (their "Check now" shows it). */
  checking: string[];
  /** True while "Check all" runs. */
  checkingAll: boolean;
  /** The sync job this screen started last (its progress comes from the jobs store). */
  syncJobId: string | null;
  rank: RankState;
  refresh(): Promise<void>;
  /** Adds a mirror; answers the error message (null on success) so the form can keep its values. */
  add(mirror: MirrorConfig): Promise<string | null>;
  update(id: string, changes: MirrorChanges): Promise<string | null>;
  remove(id: string): Promise<void>;
  check(id?: string): Promise<void>;
  sync(ids?: string[]): Promise<void>;
  setStrategy(strategy: SelectionStrategy): Promise<void>;
  loadRank(query: RankQuery): Promise<void>;
}

function replaceViews(current: MirrorView[], updates: MirrorView[]): MirrorView[] {
  const byId = new Map(updates.map((view) => [view.config.id, view]));
  return current.map((view) => byId.get(view.config.id) ?? view);
}

/** One store for the Mirrors domain; `client` is called per action so the page's client is read late. */
export function createMirrorsStore(client: () => MirrorsClient): UseBoundStore<StoreApi<MirrorsStore>> {
  return create<MirrorsStore>((set, get) => {
    /** Rank answers can arrive out of order while someone types: only the newest one counts. */
    let rankRequest = 0;
    const saveSettings = async (patch: Partial<MirrorsSettingsWritten>): Promise<void> => {
      try {
        const current = get().settings ?? (await client().request('mirrors.section.get', {}));
        const next = await client().request('mirrors.section.set', { ...current, ...patch });
        set({ settings: next, error: null });
      } catch (error) {
        set({ error: errorMessage(error) });
      }
      const rank = get().rank;
      if (rank.kind !== 'idle') await get().loadRank(rank.query);
    };
    return {
      mirrors: [],
      stats: null,
      settings: null,
      loaded: false,
      refreshedAt: 0,
      error: null,
      checking: [],
      checkingAll: false,
      syncJobId: null,
      rank: { kind: 'idle' },
      async refresh() {
        try {
          const api = client();
          const [mirrors, stats, settings] = await Promise.all([
            api.request('mirrors.list', {}),
            api.request('mirrors.stats', {}),
            api.request('mirrors.section.get', {}),
          ]);
          set({ mirrors, stats, settings, loaded: true, refreshedAt: Date.now(), error: null });
        } catch (error) {
          set({ loaded: true, error: errorMessage(error) });
        }
      },
      async add(mirror) {
        try {
          const view = await client().request('mirrors.add', { mirror });
          set({ mirrors: [...get().mirrors, view], error: null });
          await get().refresh();
          return null;
        } catch (error) {
          return errorMessage(error);
        }
      },
      async update(id, changes) {
        try {
          const view = await client().request('mirrors.update', { id, changes });
          set({ mirrors: replaceViews(get().mirrors, [view]), error: null });
          await get().refresh();
          return null;
        } catch (error) {
          return errorMessage(error);
        }
      },
      async remove(id) {
        try {
          await client().request('mirrors.remove', { id });
          set({ mirrors: get().mirrors.filter((view) => view.config.id !== id), error: null });
          await get().refresh();
        } catch (error) {
          set({ error: errorMessage(error) });
        }
      },
      async check(id) {
        if (id === undefined) set({ checkingAll: true });
        else set({ checking: [...get().checking, id] });
        try {
          const views = await client().request('mirrors.check', id === undefined ? {} : { id });
          set({ mirrors: replaceViews(get().mirrors, views), error: null });
          await get().refresh();
        } catch (error) {
          set({ error: errorMessage(error) });
        } finally {
          if (id === undefined) set({ checkingAll: false });
          else set({ checking: get().checking.filter((checking) => checking !== id) });
        }
      },
      async sync(ids) {
        try {
          const job = await client().request('mirrors.sync', { prune: false, ...(ids ? { ids } : {}) });
          set({ syncJobId: job.id, error: null });
        } catch (error) {
          set({ error: errorMessage(error) });
        }
      },
      setStrategy: (strategy) => saveSettings({ selection_strategy: strategy }),
      async loadRank(query) {
        const ticket = (rankRequest += 1);
        if (query.name.trim() === '' || query.version.trim() === '') {
          set({ rank: { kind: 'idle' } });
          return;
        }
        set({ rank: { kind: 'loading', query } });
        try {
          const strategy = get().settings?.selection_strategy;
          const entries = await client().request('mirrors.rank', {
            name: query.name.trim(),
            version: query.version.trim(),
            ...(query.region.trim() ? { region: query.region.trim() } : {}),
            ...(strategy ? { strategy } : {}),
          });
          if (ticket === rankRequest) set({ rank: { kind: 'ready', query, entries } });
        } catch (error) {
          if (ticket === rankRequest) set({ rank: { kind: 'error', query, message: errorMessage(error) } });
        }
      },
    };
  });
}

export const useMirrorsStore = createMirrorsStore(requireClient);
