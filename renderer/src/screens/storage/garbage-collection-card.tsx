import { useState } from 'react';
import { blobGcResultSchema, defaultBlobGcGraceSeconds } from '../../../../shared/domain/storage';
import { formatBytes } from '../../lib/format';
import { useJobsStore } from '../../stores/jobs-store';
import { useStorageStore } from '../../stores/storage-store';

/**
 * Blob garbage collection (also `torsh-depot gc` and `POST /api/v1/storage/gc`): blobs no version
 * references, left by a crash or a lost publish race, removed after a grace period.
 */
export function GarbageCollectionCard() {
  const collectGarbage = useStorageStore((state) => state.collectGarbage);
  const jobs = useJobsStore((state) => state.jobs);
  const [graceSeconds, setGraceSeconds] = useState(defaultBlobGcGraceSeconds);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = jobId ? jobs.find((candidate) => candidate.id === jobId) : undefined;
  const result = job?.status === 'succeeded' ? blobGcResultSchema.safeParse(job.result) : null;
  const running = job !== undefined && (job.status === 'queued' || job.status === 'running');
  const start = async (dryRun: boolean): Promise<void> => setJobId(await collectGarbage(dryRun, graceSeconds));

  return (
    <div className="card" data-testid="storage-gc">
      <h2>Unreferenced blobs</h2>
      <p className="muted">Blobs no version references (what a crash or a lost publish race leaves) are removed once older than the grace period; a blob being published is never touched. This also runs at every start.</p>
      <div className="row">
        <label className="field">
          <span>Grace period (seconds)</span>
          <input type="number" min={0} step={60} value={graceSeconds} onChange={(event) => setGraceSeconds(Math.max(0, Math.floor(Number(event.target.value) || 0)))} />
        </label>
        <button type="button" className="button secondary" disabled={running} onClick={() => void start(true)}>
          Dry run
        </button>
        <button type="button" className="button" disabled={running} onClick={() => void start(false)}>
          Collect garbage
        </button>
      </div>
      {running ? <p className="muted">{job?.message ?? 'Looking at blobs…'}</p> : null}
      {job?.status === 'failed' ? <p className="error-text" role="alert">{job.error?.message ?? 'Garbage collection failed.'}</p> : null}
      {result?.success ? (
        <p data-testid="storage-gc-result">
          {result.data.dry_run ? `Would remove ${result.data.unreferenced}` : `Removed ${result.data.removed}`} unreferenced blob(s), {formatBytes(result.data.unreferenced_bytes)}. Looked at{' '}
          {result.data.scanned}: {result.data.referenced} referenced, {result.data.young} within the grace period, {result.data.in_flight} being published.
        </p>
      ) : null}
    </div>
  );
}
