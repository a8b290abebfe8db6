import { DepotError } from '../../../shared/errors';
import type { StorageObjectView } from '../../../shared/domain/storage';
import type { JobHandle, JobRunner } from '../jobs/job-runner';
import type { CopyTargetResult, StorageManager } from './storage-manager';
import type { StoredObjectInfo } from './storage-backend';

/**
 * Copies one object to several backends as a job. Every target's outcome is in the result; if any
 * failed the job fails with a message naming each backend's outcome, so no partial copy looks done.
 */
export function startStorageCopyJob(jobs: JobRunner, storage: StorageManager, input: { sourceId: string; key: string; targetIds: string[] }): JobHandle<{ results: CopyTargetResult[] }> {
  const title = `Copy ${input.key} from ${input.sourceId} to ${input.targetIds.join(', ')}`;
  return jobs.start('storage-copy', title.slice(0, 200), input, async (context) => {
    const results = await storage.copyToBackends(input.sourceId, input.key, input.targetIds, {
      signal: context.signal,
      onProgress: (fraction) => context.reportProgress(fraction, 'Copying'),
    });
    const failed = results.filter((result) => !result.ok);
    if (failed.length > 0) {
      const copied = results.filter((result) => result.ok).map((result) => result.backendId);
      const failures = failed.map((result) => `${result.backendId} (${result.error?.message ?? 'failed'})`).join('; ');
      throw new DepotError('UNAVAILABLE', `${copied.length > 0 ? `Copied to ${copied.join(', ')}; ` : ''}failed on ${failures}`, { reason: 'partial-copy' });
    }
    return { results };
  });
}

/** An object as the contract shows it (dates as ISO strings, absent fields as null). */
export function storageObjectView(info: StoredObjectInfo): StorageObjectView {
  return {
    key: info.key,
    size: info.size,
    lastModified: info.lastModified ? info.lastModified.toISOString() : null,
    etag: info.etag ?? null,
    contentType: info.contentType ?? null,
    cacheControl: info.cacheControl ?? null,
    metadata: info.metadata ?? {},
  };
}
