import { useConnectionStore } from '../stores/connection-store';
import { isActive, useJobsStore } from '../stores/jobs-store';
import { useNavigationStore } from '../stores/navigation-store';
import { ProgressBar } from './progress-bar';

export function StatusBar() {
  const connection = useConnectionStore((state) => state.connection);
  const health = useConnectionStore((state) => state.health);
  const jobs = useJobsStore((state) => state.jobs);
  const cancel = useJobsStore((state) => state.cancel);
  const toggleJobsPanel = useNavigationStore((state) => state.toggleJobsPanel);
  const active = jobs.filter(isActive);
  const connected = connection === 'open';
  const status = connected
    ? (health?.status ?? 'checking…')
    : connection === 'unauthorized'
      ? 'Not authorized: open the URL printed by torsh-depot serve'
      : connection === 'connecting'
        ? 'Connecting…'
        : 'Disconnected — reconnecting…';

  return (
    <footer className="status-bar" aria-label="Status">
      <span className={`status-dot ${connected && health?.status === 'ok' ? 'ok' : connected ? 'warn' : 'down'}`} aria-hidden="true" />
      <span data-testid="host-status">
        Host: {status}
        {health ? ` · v${health.version} · ${health.shell}` : ''}
      </span>
      {health && health.problems.length > 0 ? <span className="status-problem">{health.problems[0]}</span> : null}
      <div className="status-jobs" data-testid="status-jobs">
        {active.slice(0, 3).map((job) => (
          <div className="status-job" key={job.id} data-testid="status-job">
            <span className="status-job-title" title={job.message ?? job.title}>
              {job.title}
            </span>
            <ProgressBar value={job.status === 'queued' ? null : job.progress} label={`${job.title} progress`} />
            <button type="button" className="link-button" onClick={() => void cancel(job.id)} aria-label={`Cancel ${job.title}`} data-testid="status-job-cancel">
              Cancel
            </button>
          </div>
        ))}
        {active.length > 3 ? <span className="muted">+{active.length - 3} more</span> : null}
      </div>
      <button type="button" className="status-button" onClick={() => toggleJobsPanel()} data-testid="toggle-jobs" aria-keyshortcuts="Control+J">
        Jobs{active.length > 0 ? ` (${active.length} running)` : ''}
      </button>
    </footer>
  );
}
