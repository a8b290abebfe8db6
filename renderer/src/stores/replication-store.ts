import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type { ConflictPolicy, ReplicaPlacement, ReplicationConflict, ReplicationStatus, ReplicationTask, VerifyReport } from '../../../shared/domain/replication';
import { requireClient } from '../lib/client-instance';
import { errorMessage, type ContractClient } from '../lib/contract-client';

/** What the store needs of the contract client (tests hand it one wired to a real core). */
export type ReplicationClient = Pick<ContractClient, 'request'>;

export type PlacementLookup =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ready'; placement: ReplicaPlacement }
  | { kind: 'error'; message: string };

export type VerifyState = { kind: 'idle' } | { kind: 'running' } | { kind: 'done'; report: VerifyReport } | { kind: 'error'; message: string };

/** One lag sample per node per refresh: p95 (ms) as the host reports it, for the chart over time. */
export interface LagPoint {
  t: number;
  value: number;
}

/** Samples kept per node (at a 5 s refresh: ten minutes). */
export const maxLagPoints = 120;

export interface ReplicationStore {
  status: ReplicationStatus | null;
  queue: ReplicationTask[];
  conflicts: ReplicationConflict[];
  lagHistory: Record<string, LagPoint[]>;
  loaded: boolean;
  error: string | null;
  retrying: boolean;
  /** The latest retry's answer: how many copies were tried again. */
  lastRetry: number | null;
  placement: PlacementLookup;
  verify: VerifyState;
  /** Conflict id being resolved, or null. */
  resolving: number | null;
  refresh(): Promise<void>;
  retry(nodeId?: string): Promise<void>;
  lookupPlacement(query: string): Promise<void>;
  runVerify(deep: boolean): Promise<void>;
  resolveConflict(id: number, choice: { policy: ConflictPolicy; winner?: 'local' | 'remote' }): Promise<void>;
}

/** `name@version` (a scoped or slashed name keeps its own `@` only at the start). */
export function parseVersionRef(query: string): { name: string; version: string } | null {
  const text = query.trim();
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return null;
  return { name: text.slice(0, at), version: text.slice(at + 1) };
}

function appendLag(history: Record<string, LagPoint[]>, status: ReplicationStatus, now: number): Record<string, LagPoint[]> {
  const next: Record<string, LagPoint[]> = {};
  for (const node of status.nodes) {
    const points = [...(history[node.id] ?? []), { t: now, value: node.lagP95Ms ?? 0 }];
    next[node.id] = points.slice(-maxLagPoints);
  }
  return next;
}

export function createReplicationStore(client: () => ReplicationClient, now: () => number = Date.now): UseBoundStore<StoreApi<ReplicationStore>> {
  return create<ReplicationStore>((set, get) => {
    let placementRequest = 0;
    return {
      status: null,
      queue: [],
      conflicts: [],
      lagHistory: {},
      loaded: false,
      error: null,
      retrying: false,
      lastRetry: null,
      placement: { kind: 'idle' },
      verify: { kind: 'idle' },
      resolving: null,
      async refresh() {
        try {
          const api = client();
          const [status, queue, conflicts] = await Promise.all([api.request('replication.status', {}), api.request('replication.queue', { limit: 200 }), api.request('replication.conflicts', {})]);
          set({ status, queue, conflicts, lagHistory: appendLag(get().lagHistory, status, now()), loaded: true, error: null });
        } catch (error) {
          set({ loaded: true, error: errorMessage(error) });
        }
      },
      async retry(nodeId) {
        set({ retrying: true });
        try {
          const { retried } = await client().request('replication.queue.retry', nodeId !== undefined ? { node: nodeId } : {});
          set({ lastRetry: retried, error: null });
          await get().refresh();
        } catch (error) {
          set({ error: errorMessage(error) });
        } finally {
          set({ retrying: false });
        }
      },
      async lookupPlacement(query) {
        const ticket = ++placementRequest;
        const ref = parseVersionRef(query);
        if (!ref) {
          set({ placement: { kind: 'error', message: 'Type a version as name@version, e.g. resnet50@1.2.0.' } });
          return;
        }
        set({ placement: { kind: 'loading' } });
        try {
          const placement = await client().request('replication.placement', ref);
          if (ticket === placementRequest) set({ placement: { kind: 'ready', placement } });
        } catch (error) {
          if (ticket === placementRequest) set({ placement: { kind: 'error', message: errorMessage(error) } });
        }
      },
      async runVerify(deep) {
        set({ verify: { kind: 'running' } });
        try {
          set({ verify: { kind: 'done', report: await client().request('replication.verify', { deep }) } });
          await get().refresh();
        } catch (error) {
          set({ verify: { kind: 'error', message: errorMessage(error) } });
        }
      },
      async resolveConflict(id, choice) {
        set({ resolving: id });
        try {
          await client().request('replication.conflicts.resolve', { id, policy: choice.policy, ...(choice.winner ? { winner: choice.winner } : {}) });
          set({ error: null });
          await get().refresh();
        } catch (error) {
          set({ error: errorMessage(error) });
        } finally {
          set({ resolving: null });
        }
      },
    };
  });
}

export const useReplicationStore = createReplicationStore(requireClient);
