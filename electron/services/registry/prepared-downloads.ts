import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ExportDecryption } from '../../../shared/domain/encryption';
import type { PreparedDownload } from '../../../shared/domain/registry';
import type { JobContext } from '../jobs/job-runner';
import { exportVersion, type ExportTools } from './export-version';
import type { RegistryService } from './registry-service';


interface Entry extends PreparedDownload {
  file: string;
  expiresAt: number;
}

/**
 * Versions saved on the host for a browser to fetch once (`GET /session/exports/{id}`): the browser cannot
 * pick a folder on the host, so an encrypted version is decrypted into the core's scratch folder and handed
 * over through the session. Each file is served once and forgotten after `ttlMs`; the start-up sweep takes
 * whatever a crash leaves.
 */
export class PreparedDownloads {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly options: { dir: string; registry: RegistryService; tools: ExportTools; ttlMs?: number; now?: () => number },
  ) {}

  async prepare(request: { name: string; version: string; decrypt?: ExportDecryption }, context: JobContext): Promise<PreparedDownload> {
    await this.expire();
    const downloadId = randomBytes(16).toString('hex');
    const directory = path.join(this.options.dir, downloadId);
    await fsp.mkdir(directory, { recursive: true, mode: 0o700 });
    try {
      const saved = await exportVersion(this.options.registry, { ...request, directory }, context, this.options.tools);
      const entry: Entry = { downloadId, fileName: path.basename(saved.path), size: saved.size, file: saved.path, expiresAt: this.now() + (this.options.ttlMs ?? 10 * 60_000) };
      this.entries.set(downloadId, entry);
      return { downloadId, fileName: entry.fileName, size: entry.size };
    } catch (error) {
      await fsp.rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  /** Hands a prepared file over once: the caller streams it, then calls `release`. */
  take(downloadId: string): { file: string; fileName: string; size: number; release: () => Promise<void> } | null {
    const entry = this.entries.get(downloadId);
    if (!entry || entry.expiresAt <= this.now()) return null;
    this.entries.delete(downloadId);
    return { file: entry.file, fileName: entry.fileName, size: entry.size, release: () => this.remove(downloadId) };
  }

  async discardAll(): Promise<void> {
    const ids = [...this.entries.keys()];
    this.entries.clear();
    await Promise.all(ids.map((id) => this.remove(id)));
  }

  private async expire(): Promise<void> {
    const now = this.now();
    const expired = [...this.entries.values()].filter((entry) => entry.expiresAt <= now).map((entry) => entry.downloadId);
    for (const id of expired) this.entries.delete(id);
    await Promise.all(expired.map((id) => this.remove(id)));
  }

  private remove(downloadId: string): Promise<void> {
    return fsp.rm(path.join(this.options.dir, downloadId), { recursive: true, force: true });
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
