import { useEffect, useState } from 'react';
import { backupRepositorySchema } from '../../../../shared/domain/backup';
import { ScreenHeader } from '../../components/screen-header';
import { ProgressBar } from '../../components/progress-bar';
import { formatBytes, formatTime } from '../../lib/format';
import { isActive, useJobsStore } from '../../stores/jobs-store';
import { useBackupsStore } from '../../stores/backups-store';
import { RecoveryPointsCard } from './recovery-points-card';
import { RetentionEditor } from './retention-editor';
import { DedupChart, SnapshotTimeline } from './snapshot-timeline';
import './backups-screen.css';

/** How often the open screen re-reads runs and snapshots (job progress arrives as events). */
const refreshMs = 5_000;

/** Backups: repositories, snapshots over time, sizes and dedup, retention with a dry run, verify, restore, recovery points. */
export function BackupsScreen() {
  const { repositories, selected, snapshots, stats, runs, loaded, error, refresh, select, runBackup, verify } = useBackupsStore();
  const [adding, setAdding] = useState(false);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), refreshMs);
    return () => clearInterval(timer);
  }, [refresh]);

  const repository = repositories.find((entry) => entry.id === selected) ?? null;
  return (
    <section className="screen backups-screen" aria-labelledby="screen-title" data-testid="backups-screen">
      <ScreenHeader
        title="Backups"
        subtitle="Deduplicated, compressed, encrypted snapshots of the registry on disk or object storage."
        actions={
          <>
            <button type="button" className="button secondary" disabled={!repository} onClick={() => void verify(false)}>
              Verify
            </button>
            <button type="button" className="button secondary" disabled={!repository} onClick={() => void verify(true)}>
              Verify (read data)
            </button>
            <button type="button" className="button" disabled={!repository} onClick={() => void runBackup()}>
              Back up now
            </button>
          </>
        }
      />
      <p className="notice notice-error" role="alert" hidden={!error} data-testid="backups-error">
        {error}
      </p>
      <ActiveJob />
      <div className="card">
        <div className="backups-head">
          <h2>Repositories</h2>
          <button type="button" className="button secondary small" onClick={() => setAdding(!adding)}>
            {adding ? 'Close' : 'Add repository'}
          </button>
        </div>
        {adding ? <RepositoryForm onDone={() => setAdding(false)} /> : null}
        {!loaded ? (
          <p className="muted" aria-busy="true">
            Loading repositories…
          </p>
        ) : repositories.length === 0 ? (
          <p className="muted" data-testid="repositories-empty">
            No backup repository yet. Add one here or under <code>backup.repositories</code> in depot.yaml.
          </p>
        ) : (
          <ul className="repository-list">
            {repositories.map((entry) => (
              <li key={entry.id}>
                <button type="button" className={`repository-pick ${entry.id === selected ? 'selected' : ''}`} aria-pressed={entry.id === selected} onClick={() => void select(entry.id)} data-testid="repository-row">
                  <strong>{entry.id}</strong> <span className="muted">{entry.repo}</span>
                  {entry.origin === 'config' ? <span className="badge">depot.yaml</span> : null}
                  {entry.schedules.map((schedule) => (
                    <span key={schedule.key} className="muted schedule">
                      {schedule.key.split(':')[0]} {schedule.cron} · next {formatTime(schedule.next)}
                    </span>
                  ))}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {repository ? (
        <>
          <div className="backups-grid">
            <div className="card">
              <h2>Snapshots</h2>
              {stats ? (
                <p className="muted" data-testid="backups-stats">
                  {stats.snapshots} snapshots · {formatBytes(stats.logicalBytes)} logical · {formatBytes(stats.storedBytes)} stored · ratio {stats.dedupRatio === null ? '—' : `${stats.dedupRatio.toFixed(2)}×`}
                </p>
              ) : null}
              <SnapshotTimeline snapshots={snapshots} />
            </div>
            <div className="backups-side">
              <div className="card">
                <h2>Dedup</h2>
                <DedupChart snapshots={snapshots} />
              </div>
              <RetentionEditor key={repository.id} initial={repository.config.keep} />
            </div>
          </div>
          <RecoveryPointsCard />
          <div className="card">
            <h2>Runs</h2>
            {runs.length === 0 ? (
              <p className="muted">No runs yet.</p>
            ) : (
              <table className="table">
                <thead>
                  <tr>
                    <th>Started</th>
                    <th>Kind</th>
                    <th>Trigger</th>
                    <th>Status</th>
                    <th>Snapshot</th>
                    <th>Error</th>
                  </tr>
                </thead>
                <tbody>
                  {runs.map((run) => (
                    <tr key={run.jobId} data-testid="run-row" data-status={run.status}>
                      <td>{formatTime(run.startedAt)}</td>
                      <td>{run.kind}</td>
                      <td>{run.trigger}</td>
                      <td>{run.status}</td>
                      <td>{run.snapshotId ? <code>{run.snapshotId.slice(0, 12)}</code> : '—'}</td>
                      <td className="run-error">{run.error ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </>
      ) : null}
    </section>
  );
}

/** The job this screen started last: its progress (files, bytes read, bytes new, ETA), result and a cancel button. */
function ActiveJob() {
  const jobId = useBackupsStore((state) => state.jobId);
  const job = useJobsStore((state) => state.jobs.find((entry) => entry.id === jobId) ?? null);
  const cancel = useJobsStore((state) => state.cancel);
  const refresh = useBackupsStore((state) => state.refresh);
  const finished = job !== null && !isActive(job);
  useEffect(() => {
    if (finished) void refresh();
  }, [finished, refresh]);
  if (!job) return null;
  return (
    <div className="card backup-job" data-testid="backup-job" data-status={job.status}>
      <div className="backups-head">
        <strong>{job.title}</strong>
        {isActive(job) ? (
          <button type="button" className="button secondary small" onClick={() => void cancel(job.id)}>
            Cancel
          </button>
        ) : null}
      </div>
      {isActive(job) ? <ProgressBar value={job.progress} label={job.title} /> : null}
      <p className="muted" data-testid="backup-job-status">
        {job.status === 'succeeded' ? 'Done.' : job.status === 'failed' ? `Failed: ${job.error?.message ?? ''}` : job.status === 'cancelled' ? 'Cancelled.' : (job.message ?? 'Starting…')}
      </p>
    </div>
  );
}

/** A new repository (the fields of a depot.yaml `backup.repositories` entry); the passphrase only as a reference. */
function RepositoryForm({ onDone }: { onDone: () => void }) {
  const saveRepository = useBackupsStore((state) => state.saveRepository);
  const [values, setValues] = useState({ id: '', repo: '', passphrase: '', schedule: '' });
  const [error, setError] = useState<string | null>(null);
  const field = (name: keyof typeof values, label: string, placeholder: string) => (
    <label>
      {label}
      <input value={values[name]} placeholder={placeholder} onChange={(event) => setValues({ ...values, [name]: event.target.value })} />
    </label>
  );
  return (
    <form
      className="inline-form repository-form"
      data-testid="repository-form"
      onSubmit={(event) => {
        event.preventDefault();
        const parsed = backupRepositorySchema.safeParse({ id: values.id.trim(), repo: values.repo.trim(), passphrase: values.passphrase.trim(), ...(values.schedule.trim() ? { schedule: values.schedule.trim() } : {}) });
        if (!parsed.success) {
          setError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
          return;
        }
        void saveRepository(parsed.data).then((failure) => {
          setError(failure);
          if (failure === null) onDone();
        });
      }}
    >
      {field('id', 'id', 'offsite')}
      {field('repo', 'repo', 's3://bucket/depot?endpoint=… or file:///srv/backups')}
      {field('passphrase', 'passphrase', '${BACKUP_PASSPHRASE} or file:/etc/depot/backup.pass')}
      {field('schedule', 'schedule', '0 3 * * *')}
      <button type="submit" className="button">
        Add repository
      </button>
      <p className="notice notice-error" role="alert" hidden={!error}>
        {error}
      </p>
    </form>
  );
}
