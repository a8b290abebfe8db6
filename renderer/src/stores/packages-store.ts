import { create } from 'zustand';
import {
  stagedPackageSchema,
  type FolderInspection,
  type FolderSource,
  type PackageInspectionView,
  type PackageSource,
  type PackageVersionMetadata,
  type PackageVersionsListing,
  type PublishMetadata,
  type SearchResult,
  type VersionRow,
} from '../../../shared/domain/registry';
import type { JobRecord } from '../../../shared/domain/jobs';
import type { ExportDecryption, PublishEncryption } from '../../../shared/domain/encryption';
import { client, requireClient } from '../lib/client-instance';
import { desktopBridge, errorMessage } from '../lib/contract-client';
import { uploadToStaging } from '../lib/stage-upload';
import { uploadFolderFiles, type DroppedFolder } from '../lib/dropped-folder';
import { useJobsStore } from './jobs-store';

export const listPageSize = 100;
/** Pages of the all-versions list kept in memory: scrolling through 100,000 versions must not keep them all. */
const maxCachedPages = 40;

/** Drops the cached pages farthest from the one just loaded, keeping `maxCachedPages`. */
function keepNearest(pages: Record<number, VersionRow[]>, around: number): Record<number, VersionRow[]> {
  const keys = Object.keys(pages).map(Number);
  if (keys.length <= maxCachedPages) return pages;
  const kept = keys.sort((a, b) => Math.abs(a - around) - Math.abs(b - around)).slice(0, maxCachedPages);
  return Object.fromEntries(kept.map((key) => [key, pages[key] as VersionRow[]]));
}

/** A dropped folder goes uploading → inspecting → folder (name it) → packing, then on like a dropped package. */
export type DropPhase = 'idle' | 'uploading' | 'inspecting' | 'folder' | 'packing' | 'ready' | 'publishing' | 'published' | 'error';

/** What the publish form adds to the metadata: a key to sign with, and encryption. */
export interface PublishChoices {
  signWith: string | null;
  encrypt?: PublishEncryption;
}

export interface PackFields {
  name: string;
  version: string;
  description: string | null;
  author: string | null;
  license: string | null;
}

export interface DropState {
  phase: DropPhase;
  fileName: string | null;
  uploaded: number;
  total: number;
  source: PackageSource | null;
  inspection: PackageInspectionView | null;
  folderSource: FolderSource | null;
  folderInspection: FolderInspection | null;
  jobId: string | null;
  error: string | null;
}

const idleDrop: DropState = { phase: 'idle', fileName: null, uploaded: 0, total: 0, source: null, inspection: null, folderSource: null, folderInspection: null, jobId: null, error: null };

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
  /** A folder: its local path (desktop) or its files to upload (browser). */
  dropFolder(folder: { name: string; path: string | null; files: DroppedFolder['files'] }): Promise<void>;
  packFolder(fields: PackFields): Promise<void>;
  cancelDrop(): Promise<void>;
  /** Publishes the inspected package; `signWith` also signs it with that key of ours, `encrypt` stores it encrypted. */
  publish(metadata: PublishMetadata, choices?: PublishChoices): Promise<void>;
  /**
   * Saves the selected version as a job, decrypted with `decrypt`: into a folder the user picks (desktop),
   * or prepared on the host for the browser to fetch. Null when the user closed the folder picker.
   */
  startSave(target: 'folder' | 'browser', decrypt?: ExportDecryption): Promise<JobRecord | null>;
  onJobFinished(job: JobRecord): void;
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
      set({ totalVersions: total, pages: keepNearest({ ...get().pages, [page]: rows }, page), listError: null });
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

  async startSave(target, decrypt) {
    const selected = get().selected;
    if (!selected) return null;
    const unlock = decrypt ? { decrypt } : {};
    let job: JobRecord;
    if (target === 'browser') {
      job = await requireClient().request('packages.prepareDownload', { ...selected, ...unlock });
    } else {
      const { path } = await requireClient().request('app.chooseFolder', { title: `Save ${selected.name}@${selected.version} to…` });
      if (path === null) return null;
      job = await requireClient().request('packages.exportVersion', { ...selected, directory: path, ...unlock });
    }
    useJobsStore.getState().upsert(job);
    return job;
  },

  async dropFile(file) {
    if (!file.name.toLowerCase().endsWith('.torshpkg')) {
      set({ drop: { ...idleDrop, phase: 'error', fileName: file.name, error: `${file.name} is not a .torshpkg package.` } });
      return;
    }
    const bridge = desktopBridge();
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

  async dropFolder(folder) {
    set({ drop: { ...idleDrop, phase: 'uploading', fileName: folder.name, total: folder.files.reduce((sum, entry) => sum + entry.file.size, 0) } });
    try {
      let folderSource: FolderSource;
      if (folder.path !== null) {
        folderSource = { kind: 'path', path: folder.path };
      } else {
        if (folder.files.length === 0) throw new Error(`${folder.name} has no files to pack.`);
        const { id } = await requireClient().request('packages.createFolderUpload', { folderName: folder.name });
        folderSource = { kind: 'uploaded', id };
        set({ drop: { ...get().drop, folderSource } });
        const upload = uploadFolderFiles(id, { name: folder.name, files: folder.files }, (uploaded, total) => set({ drop: { ...get().drop, uploaded, total } }));
        abortUpload = upload.abort;
        await upload.promise;
        abortUpload = null;
      }
      set({ drop: { ...get().drop, phase: 'inspecting', folderSource } });
      const folderInspection = await requireClient().request('packages.inspectFolder', { source: folderSource });
      set({ drop: { ...get().drop, phase: 'folder', folderInspection } });
    } catch (error) {
      abortUpload = null;
      set({ drop: { ...get().drop, phase: 'error', error: errorMessage(error) } });
    }
  },

  async packFolder(fields) {
    const { drop } = get();
    if (!drop.folderSource) return;
    try {
      const job = await requireClient().request('packages.packFolder', { source: drop.folderSource, ...fields });
      useJobsStore.getState().upsert(job);
      set({ drop: { ...get().drop, phase: 'packing', jobId: job.id, error: null } });
    } catch (error) {
      // A bad name or version: stay on the form with the reason.
      set({ drop: { ...get().drop, error: errorMessage(error) } });
    }
  },

  async cancelDrop() {
    abortUpload?.();
    abortUpload = null;
    const { drop } = get();
    if ((drop.phase === 'publishing' || drop.phase === 'packing') && drop.jobId) {
      await useJobsStore.getState().cancel(drop.jobId);
      return;
    }
    if (drop.source?.kind === 'staged') await client?.request('packages.discardStaged', { id: drop.source.id }).catch(() => undefined);
    if (drop.folderSource?.kind === 'uploaded') await client?.request('packages.discardFolder', { id: drop.folderSource.id }).catch(() => undefined);
    set({ drop: idleDrop });
  },

  async publish(metadata, choices = { signWith: null }) {
    const { drop } = get();
    if (!drop.source) return;
    try {
      const job = await requireClient().request('packages.publish', { source: drop.source, metadata, signWith: choices.signWith, ...(choices.encrypt ? { encrypt: choices.encrypt } : {}) });
      useJobsStore.getState().upsert(job);
      set({ drop: { ...get().drop, phase: 'publishing', jobId: job.id } });
    } catch (error) {
      set({ drop: { ...get().drop, phase: 'error', error: errorMessage(error) } });
    }
  },

  onJobFinished(job) {
    const { drop } = get();
    if (drop.jobId !== job.id) return;
    const succeeded = job.status === 'succeeded';
    const failure = job.status === 'cancelled' ? 'Cancelled.' : (job.error?.message ?? 'The job did not finish.');
    if (drop.phase === 'packing') {
      const staged = stagedPackageSchema.safeParse(job.result);
      if (!succeeded || !staged.success) {
        set({ drop: { ...drop, phase: 'error', error: succeeded ? 'Packing finished without a package.' : failure } });
        return;
      }
      // The packed folder is now a staged package: inspect and publish it like a dropped file.
      const source: PackageSource = { kind: 'staged', id: staged.data.id };
      set({ drop: { ...drop, phase: 'inspecting', source, folderSource: null, jobId: null, fileName: staged.data.fileName } });
      void requireClient()
        .request('packages.inspect', { source })
        .then(
          (inspection) => set({ drop: { ...get().drop, phase: 'ready', inspection } }),
          (error: unknown) => set({ drop: { ...get().drop, phase: 'error', error: errorMessage(error) } }),
        );
      return;
    }
    if (succeeded) {
      set({ drop: { ...drop, phase: 'published' } });
      const inspection = drop.inspection;
      void get().reload().then(() => (inspection ? get().select(inspection.name, inspection.version) : undefined));
    } else {
      set({ drop: { ...drop, phase: 'error', error: job.status === 'cancelled' ? 'Publishing cancelled.' : (job.error?.message ?? 'Publishing failed.') } });
    }
  },
}));

export function resetDrop(): void {
  usePackagesStore.setState({ drop: idleDrop });
}
