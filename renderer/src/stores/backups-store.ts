import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type {
  BackupRepositoryConfig,
  BackupRepositoryStats,
  BackupRepositoryView,
  BackupRun,
  RecoveryPoint,
  RetentionGroup,
  RetentionPolicyInput,
  SnapshotSummary,
} from '../../../shared/domain/backup';
import type { JobRecord } from '../../../shared/domain/jobs';
import { requireClient } from '../lib/client-instance';
import { errorMessage, type ContractClient } from '../lib/contract-client';
import { useJobsStore } from './jobs-store';

/** What the store needs of the contract client (tests hand it one wired to a real core). */
export type BackupsClient = Pick<ContractClient, 'request'>;

export interface RetentionPreview {
  keep: RetentionPolicyInput;
  groups: RetentionGroup[];
}

export interface BackupsStore {
  repositories: BackupRepositoryView[];
  /** The repository the screen shows. */
  selected: string | null;
  snapshots: SnapshotSummary[];
  stats: BackupRepositoryStats | null;
  runs: BackupRun[];
  recoveryPoints: RecoveryPoint[];
  preview: RetentionPreview | null;
  loaded: boolean;
  error: string | null;
  /** The last job this screen started (its progress comes from the jobs store and `backups.progress`). */
  jobId: string | null;
  refresh(): Promise<void>;
  select(id: string): Promise<void>;
  /** Answers the error message (null on success) so a form can keep its values. */
  saveRepository(repository: BackupRepositoryConfig): Promise<string | null>;
  runBackup(): Promise<void>;
  verify(readData: boolean): Promise<void>;
  previewRetention(keep: RetentionPolicyInput): Promise<void>;
  applyRetention(keep: RetentionPolicyInput, prune: boolean): Promise<void>;
  restore(snapshot: string, target: string): Promise<string | null>;
  restoreVersion(snapshot: string, name: string, version: string): Promise<string | null>;
  createRecoveryPoint(name: string, version: string, note: string): Promise<string | null>;
  releaseRecoveryPoint(id: string): Promise<void>;
  restoreRecoveryPoint(id: string): Promise<void>;
}

/** One store for the Backups domain; `client` is called per action so the page's client is read late. */
export function createBackupsStore(client: () => BackupsClient): UseBoundStore<StoreApi<BackupsStore>> {
  return create<BackupsStore>((set, get) => {
    /** Loads can overlap (the timer, a finished job): only the newest answer is shown. */
    let loadTicket = 0;
    const started = (job: JobRecord): void => {
      useJobsStore.getState().upsert(job);
      set({ jobId: job.id, error: null });
    };
    /** Runs an action that starts a job; errors go to the banner. */
    const startJob = async (start: (repository: string) => Promise<JobRecord>): Promise<void> => {
      const repository = get().selected;
      if (!repository) return;
      try {
        started(await start(repository));
        await get().select(repository);
      } catch (error) {
        set({ error: errorMessage(error) });
      }
    };
    return {
      repositories: [],
      selected: null,
      snapshots: [],
      stats: null,
      runs: [],
      recoveryPoints: [],
      preview: null,
      loaded: false,
      error: null,
      jobId: null,
      async refresh() {
        try {
          const api = client();
          const [repositories, recoveryPoints] = await Promise.all([api.request('backups.repositories.list', {}), api.request('backups.recoveryPoints.list', { includeReleased: false })]);
          const selected = get().selected ?? repositories[0]?.id ?? null;
          set({ repositories, recoveryPoints, selected, loaded: true, error: null });
          if (selected) await get().select(selected);
        } catch (error) {
          set({ loaded: true, error: errorMessage(error) });
        }
      },
      async select(id) {
        set({ selected: id });
        const ticket = (loadTicket += 1);
        const api = client();
        const runs = await api.request('backups.runs', { id, limit: 50 }).catch(() => [] as BackupRun[]);
        try {
          const [snapshots, stats] = await Promise.all([api.request('backups.snapshots', { id }), api.request('backups.stats', { id })]);
          if (ticket === loadTicket) set({ snapshots, stats, runs, error: null });
        } catch (error) {
          // A repository not initialized yet has no snapshots: say so without hiding its runs.
          if (ticket === loadTicket) set({ snapshots: [], stats: null, runs, error: errorMessage(error) });
        }
      },
      async saveRepository(repository) {
        try {
          const api = client();
          await api.request('backups.repositories.save', { repository });
          await api.request('backups.repositories.init', { id: repository.id });
          set({ selected: repository.id });
          await get().refresh();
          return null;
        } catch (error) {
          return errorMessage(error);
        }
      },
      runBackup: () => startJob((id) => client().request('backups.run', { id, request: {} })),
      verify: (readData) => startJob((id) => client().request('backups.verify', { id, request: readData ? { readData: true } : {} })),
      async previewRetention(keep) {
        const id = get().selected;
        if (!id) return;
        try {
          const result = await client().request('backups.forget', { id, request: { keep, dryRun: true } });
          set({ preview: { keep, groups: result.groups }, error: null });
        } catch (error) {
          set({ preview: null, error: errorMessage(error) });
        }
      },
      async applyRetention(keep, prune) {
        await startJob(async (id) => {
          const result = await client().request('backups.forget', { id, request: { keep, dryRun: false, prune } });
          if (!result.job) throw new Error('The host ran a dry run instead.');
          return result.job;
        });
        set({ preview: null });
      },
      async restore(snapshot, target) {
        const id = get().selected;
        if (!id) return 'Choose a repository first.';
        try {
          started(await client().request('backups.restore', { id, request: { snapshot, target } }));
          return null;
        } catch (error) {
          return errorMessage(error);
        }
      },
      async restoreVersion(snapshot, name, version) {
        const id = get().selected;
        if (!id) return 'Choose a repository first.';
        try {
          started(await client().request('backups.restoreVersion', { id, snapshot, name, version }));
          return null;
        } catch (error) {
          return errorMessage(error);
        }
      },
      async createRecoveryPoint(name, version, note) {
        const id = get().selected;
        if (!id) return 'Choose a repository first.';
        try {
          started(await client().request('backups.recoveryPoints.create', { repository: id, name, version, note: note.trim() === '' ? null : note }));
          return null;
        } catch (error) {
          return errorMessage(error);
        }
      },
      async releaseRecoveryPoint(id) {
        try {
          await client().request('backups.recoveryPoints.release', { id });
          await get().refresh();
        } catch (error) {
          set({ error: errorMessage(error) });
        }
      },
      async restoreRecoveryPoint(id) {
        try {
          started(await client().request('backups.recoveryPoints.restore', { id }));
        } catch (error) {
          set({ error: errorMessage(error) });
        }
      },
    };
  });
}

export const useBackupsStore = createBackupsStore(requireClient);
