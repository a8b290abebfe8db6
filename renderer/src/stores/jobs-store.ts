import { create } from 'zustand';
import type { JobRecord, JobStartRequest } from '../../../shared/domain/jobs';
import { client, requireClient } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';
import { createFrameBatcher } from '../lib/frame-batcher';

interface JobsStore {
  /** Newest first. */
  jobs: JobRecord[];
  loaded: boolean;
  error: string | null;
  refresh(): Promise<void>;
  start(request: JobStartRequest): Promise<JobRecord | null>;
  cancel(id: string): Promise<void>;
  clearHistory(): Promise<void>;
  /** Jobs started elsewhere (e.g. a publish) arrive through the event; this merges one in now. */
  upsert(record: JobRecord): void;
}

function merge(jobs: JobRecord[], updates: JobRecord[]): JobRecord[] {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  for (const update of updates) byId.set(update.id, update);
  return [...byId.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

export const useJobsStore = create<JobsStore>((set, get) => ({
  jobs: [],
  loaded: false,
  error: null,
  async refresh() {
    if (!client) return;
    try {
      set({ jobs: await client.request('jobs.list', { limit: 500 }), loaded: true, error: null });
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
  async start(request) {
    try {
      const record = await requireClient().request('jobs.start', request);
      get().upsert(record);
      return record;
    } catch (error) {
      set({ error: errorMessage(error) });
      return null;
    }
  },
  async cancel(id) {
    try {
      get().upsert(await requireClient().request('jobs.cancel', { id }));
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
  async clearHistory() {
    try {
      await requireClient().request('jobs.clearHistory', {});
      await get().refresh();
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
  upsert(record) {
    set({ jobs: merge(get().jobs, [record]) });
  },
}));

/** Progress events can come hundreds a second: apply them at most once per frame. */
export function startJobUpdates(): () => void {
  if (!client) return () => undefined;
  const enqueue = createFrameBatcher<JobRecord>((updates) => useJobsStore.setState({ jobs: merge(useJobsStore.getState().jobs, updates) }));
  void useJobsStore.getState().refresh();
  return client.onEvent('jobs.updated', enqueue);
}

export function isActive(job: JobRecord): boolean {
  return job.status === 'queued' || job.status === 'running';
}
