import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type { BestUrlAnswer, CdnConfigView, CdnEdgeView, CdnPurgeRequestInput, CdnStatsAnswer, PurgeReport } from '../../../shared/domain/cdn';
import { requireClient } from '../lib/client-instance';
import { errorMessage, type ContractClient } from '../lib/contract-client';

/** What the store needs of the contract client (tests hand it one wired to a real core). */
export type CdnClient = Pick<ContractClient, 'request'>;

export type RegionTest =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ready'; answer: BestUrlAnswer }
  | { kind: 'error'; message: string };

export type PurgeState = { kind: 'idle' } | { kind: 'running' } | { kind: 'done'; report: PurgeReport } | { kind: 'error'; message: string };

/** The origin upload this screen started last: its job (progress and result come from the jobs store), or why it was refused. */
export type UploadState = { kind: 'idle' } | { kind: 'starting' } | { kind: 'started'; jobId: string } | { kind: 'error'; message: string };

export interface CdnStore {
  config: CdnConfigView | null;
  edges: CdnEdgeView[];
  stats: CdnStatsAnswer | null;
  loaded: boolean;
  error: string | null;
  checking: boolean;
  purge: PurgeState;
  regionTest: RegionTest;
  upload: UploadState;
  refresh(): Promise<void>;
  /** Saves the section as written (YAML-shaped object); answers the error (null on success) so the form keeps its text. */
  saveConfig(section: Record<string, unknown> | null): Promise<string | null>;
  checkEdges(): Promise<void>;
  runPurge(request: CdnPurgeRequestInput): Promise<void>;
  testRegion(query: { name: string; version: string; region: string; clientIp: string }): Promise<void>;
  /** Starts `cdn.upload` for `name@version`; refused (private on a public origin, serve as origin) before a job exists. */
  startUpload(name: string, version: string): Promise<void>;
}

const statsWindow = { hours: 24, bucketSeconds: 3600 };

export function createCdnStore(client: () => CdnClient): UseBoundStore<StoreApi<CdnStore>> {
  return create<CdnStore>((set, get) => {
    let regionRequest = 0;
    return {
      config: null,
      edges: [],
      stats: null,
      loaded: false,
      error: null,
      checking: false,
      purge: { kind: 'idle' },
      regionTest: { kind: 'idle' },
      upload: { kind: 'idle' },
      async refresh() {
        try {
          const api = client();
          const since = new Date(Date.now() - statsWindow.hours * 3_600_000).toISOString();
          const [config, edges, stats] = await Promise.all([
            api.request('cdn.config.get', {}),
            api.request('cdn.edges', {}),
            api.request('cdn.stats', { since, bucket_seconds: statsWindow.bucketSeconds }),
          ]);
          set({ config, edges, stats, loaded: true, error: null });
        } catch (error) {
          set({ loaded: true, error: errorMessage(error) });
        }
      },
      async saveConfig(section) {
        try {
          const config = await client().request('cdn.config.set', { cdn: section });
          set({ config, error: null });
          await get().refresh();
          return null;
        } catch (error) {
          return errorMessage(error);
        }
      },
      async checkEdges() {
        set({ checking: true });
        try {
          set({ edges: await client().request('cdn.edges.check', {}), error: null });
        } catch (error) {
          set({ error: errorMessage(error) });
        } finally {
          set({ checking: false });
        }
      },
      async runPurge(request) {
        set({ purge: { kind: 'running' } });
        try {
          set({ purge: { kind: 'done', report: await client().request('cdn.purge', request) } });
        } catch (error) {
          set({ purge: { kind: 'error', message: errorMessage(error) } });
        }
      },
      async startUpload(name, version) {
        set({ upload: { kind: 'starting' } });
        try {
          const job = await client().request('cdn.upload', { name: name.trim(), version: version.trim() });
          set({ upload: { kind: 'started', jobId: job.id } });
        } catch (error) {
          set({ upload: { kind: 'error', message: errorMessage(error) } });
        }
      },
      async testRegion(query) {
        const ticket = ++regionRequest;
        set({ regionTest: { kind: 'loading' } });
        try {
          const answer = await client().request('cdn.bestUrl', {
            name: query.name.trim(),
            version: query.version.trim(),
            ...(query.region.trim() ? { region: query.region.trim() } : {}),
            ...(query.clientIp.trim() ? { client_ip: query.clientIp.trim() } : {}),
          });
          if (ticket === regionRequest) set({ regionTest: { kind: 'ready', answer } });
        } catch (error) {
          if (ticket === regionRequest) set({ regionTest: { kind: 'error', message: errorMessage(error) } });
        }
      },
    };
  });
}

export const useCdnStore = createCdnStore(requireClient);
