import { create } from 'zustand';
import type {
  PackageInspectionView,
  PackageSource,
  PackageVersionMetadata,
  PackageVersionsListing,
  PublishMetadata,
  SearchResult,
  VersionRow,
} from '../../../shared/domain/registry';
import { desktopBridgeKey, type DesktopBridge } from '../../../shared/contract/wire';
import { client, requireClient } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';
import { uploadToStaging } from '../lib/stage-upload';
import { useJobsStore } from './jobs-store';

export const listPageSize = 100;

export type DropPhase = 'idle' | 'uploading' | 'inspecting' | 'ready' | 'publishing' | 'published' | 'error';

export interface DropState {
  phase: DropPhase;
  fileName: string | null;
  uploaded: number;
  total: number;
  source: PackageSource | null;
  inspection: PackageInspectionView | null;
  jobId: string | null;
  error: string | null;
}

const idleDrop: DropState = { phase: 'idle', fileName: null, uploaded: 0, total: 0, source: null, inspection: null, jobId: null, error: null };

interface PackagesStore {
  query: string;
  search: SearchResult | null;
  searchError: string | null;
  totalVersions: number;
  pages: Record<number, VersionRow[]>;
  listError: string | null;
  selected: { name: string; version: string } | null;
  detail: PackageVersionMetadata | null;
  versions: PackageVersionsListing | null;
  detailError: string | null;
  httpBaseUrl: string | null;
  drop: DropState;
  setQuery(query: string): void;
  runSearch(query: string): Promise<void>;
  loadPage(page: number): Promise<void>;
  reload(): Promise<void>;
  select(name: string, version: string): Promise<void>;
  setYanked(yanked: boolean): Promise<void>;
  /** Desktop: pick a folder and save the selected version there, as a job. */
  saveToFolder(): Promise<void>;
  dropFile(file: File): Promise<void>;
  cancelDrop(): Promise<void>;
  publish(metadata: PublishMetadata): Promise<void>;
  onJobFinished(jobId: string, succeeded: boolean, message: string | null): void;
}

let abortUpload: (() => void) | null = null;
const loadingPages = new Set<number>();
let searchSequence = 0;

export const usePackagesStore = create<PackagesStore>((set, get) => ({
  query: '',
  search: null,
  searchError: null,
  totalVersions: 0,
  pages: {},
  listError: null,
  selected: null,
  detail: null,
  versions: null,
  detailError: null,
  httpBaseUrl: null,
  drop: idleDrop,

  setQuery(query) {
    set({ query });
  },

  async runSearch(query) {
    const sequence = ++searchSequence;
    if (query.trim() === '') {
      set({ search: null, searchError: null });
      return;
    }
    try {
      const search = await requireClient().request('packages.search', { query, page: 1, perPage: 50 });
      // Answers may overtake each other while typing: keep only the latest.
      if (sequence === searchSequence) set({ search, searchError: null });
    } catch (error) {
      if (sequence === searchSequence) set({ searchError: errorMessage(error) });
    }
  },

  async loadPage(page) {
    if (!client || loadingPages.has(page) || get().pages[page]) return;
    loadingPages.add(page);
    try {
      const { total, rows } = await client.request('packages.listVersions', { offset: page * listPageSize, limit: listPageSize });
      set({ totalVersions: total, pages: { ...get().pages, [page]: rows }, listError: null });
    } catch (error) {
      set({ listError: errorMessage(error) });
    } finally {
      loadingPages.delete(page);
    }
  },

  async reload() {
    if (!client) return;
    set({ pages: {} });
    loadingPages.clear();
    await get().loadPage(0);
    const info = await client.request('packages.registryInfo', {}).catch(() => null);
    set({ httpBaseUrl: info?.httpBaseUrl ?? null });
    if (get().query.trim() !== '') await get().runSearch(get().query);
    const selected = get().selected;
    if (selected) await get().select(selected.name, selected.version);
  },

  async select(name, version) {
    set({ selected: { name, version }, detailError: null });
    try {
      const [detail, versions] = await Promise.all([
        requireClient().request('packages.version', { name, version }),
        requireClient().request('packages.get', { name }),
      ]);
      set({ detail, versions });
    } catch (error) {
      set({ detail: null, versions: null, detailError: errorMessage(error) });
    }
  },

  async setYanked(yanked) {
    const selected = get().selected;
    if (!selected) return;
    try {
      const detail = await requireClient().request('packages.setYanked', { ...selected, yanked });
      set({ detail });
      await get().reload();
    } catch (error) {
      set({ detailError: errorMessage(error) });
    }
  },

  async saveToFolder() {
    const selected = get().selected;
    if (!selected) return;
    try {
      const { path } = await requireClient().request('app.chooseFolder', { title: `Save ${selected.name}@${selected.version} to…` });
      if (path === null) return;
      useJobsStore.getState().upsert(await requireClient().request('packages.exportVersion', { ...selected, directory: path }));
    } catch (error) {
      set({ detailError: errorMessage(error) });
    }
  },

  async dropFile(file) {
    if (!file.name.toLowerCase().endsWith('.torshpkg')) {
      set({ drop: { ...idleDrop, phase: 'error', fileName: file.name, error: `${file.name} is not a .torshpkg package.` } });
      return;
    }
    const bridge = (window as unknown as Record<string, DesktopBridge | undefined>)[desktopBridgeKey];
    let source: PackageSource;
    set({ drop: { ...idleDrop, phase: 'uploading', fileName: file.name, total: file.size } });
    try {
      const localPath = bridge?.pathForFile(file) ?? null;
      if (localPath) {
        source = { kind: 'path', path: localPath };
      } else {
        const upload = uploadToStaging(file, (uploaded, total) => set({ drop: { ...get().drop, uploaded, total } }));
        abortUpload = upload.abort;
        const staged = await upload.promise;
        abortUpload = null;
        source = { kind: 'staged', id: staged.id };
      }
      set({ drop: { ...get().drop, phase: 'inspecting', source, uploaded: file.size } });
      const inspection = await requireClient().request('packages.inspect', { source });
      set({ drop: { ...get().drop, phase: 'ready', inspection } });
    } catch (error) {
      abortUpload = null;
      set({ drop: { ...get().drop, phase: 'error', error: errorMessage(error) } });
    }
  },

  async cancelDrop() {
    abortUpload?.();
    abortUpload = null;
    const { drop } = get();
    if (drop.phase === 'publishing' && drop.jobId) {
      await useJobsStore.getState().cancel(drop.jobId);
      return;
    }
    if (drop.source?.kind === 'staged') await client?.request('packages.discardStaged', { id: drop.source.id }).catch(() => undefined);
    set({ drop: idleDrop });
  },

  async publish(metadata) {
    const { drop } = get();
    if (!drop.source) return;
    try {
      const job = await requireClient().request('packages.publish', { source: drop.source, metadata });
      useJobsStore.getState().upsert(job);
      set({ drop: { ...get().drop, phase: 'publishing', jobId: job.id } });
    } catch (error) {
      set({ drop: { ...get().drop, phase: 'error', error: errorMessage(error) } });
    }
  },

  onJobFinished(jobId, succeeded, message) {
    const { drop } = get();
    if (drop.jobId !== jobId) return;
    if (succeeded) {
      set({ drop: { ...drop, phase: 'published' } });
      const inspection = drop.inspection;
      void get().reload().then(() => (inspection ? get().select(inspection.name, inspection.version) : undefined));
    } else {
      set({ drop: { ...drop, phase: 'error', error: message ?? 'Publishing failed.' } });
    }
  },
}));

export function resetDrop(): void {
  usePackagesStore.setState({ drop: idleDrop });
}
