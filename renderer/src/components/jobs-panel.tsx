import { useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { formatTime } from '../lib/format';
import { isActive, useJobsStore } from '../stores/jobs-store';
import { useNavigationStore } from '../stores/navigation-store';
import { ProgressBar } from './progress-bar';

const statusLabels: Record<string, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

export function JobsPanel() {
  const open = useNavigationStore((state) => state.jobsPanelOpen);
  const toggle = useNavigationStore((state) => state.toggleJobsPanel);
  const jobs = useJobsStore((state) => state.jobs);
  const cancel = useJobsStore((state) => state.cancel);
  const clearHistory = useJobsStore((state) => state.clearHistory);
  const error = useJobsStore((state) => state.error);
  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual is built for this
  const virtualizer = useVirtualizer({ count: jobs.length, getScrollElement: () => scrollRef.current, estimateSize: () => 64, overscan: 8 });

  if (!open) return null;
  return (
    <aside className="jobs-panel" aria-label="Jobs" data-testid="jobs-panel">
      <div className="jobs-panel-header">
        <h2>Jobs</h2>
        <div className="row">
          <button type="button" className="button secondary" onClick={() => void clearHistory()} disabled={!jobs.some((job) => !isActive(job))}>
            Clear history
          </button>
          <button type="button" className="button secondary" onClick={() => toggle(false)} aria-label="Close jobs panel">
            ✕
          </button>
        </div>
      </div>
      {error ? <p className="error-text">{error}</p> : null}
      {jobs.length === 0 ? <p className="muted empty">No jobs yet. Long operations — checks, publishes, transfers — show up here.</p> : null}
      <div className="jobs-scroll" ref={scrollRef}>
        <ul style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const job = jobs[item.index];
            if (!job) return null;
            return (
              <li
                key={job.id}
                className={`job-row status-${job.status}`}
                data-testid="job-row"
                data-status={job.status}
                ref={virtualizer.measureElement}
                data-index={item.index}
                style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}
              >
                <div className="job-row-main">
                  <span className="job-title">{job.title}</span>
                  <span className={`badge badge-${job.status}`}>{statusLabels[job.status]}</span>
                </div>
                {isActive(job) ? (
                  <div className="row">
                    <ProgressBar value={job.status === 'queued' ? null : job.progress} label={`${job.title} progress`} />
                    <button type="button" className="link-button" onClick={() => void cancel(job.id)}>
                      Cancel
                    </button>
                  </div>
                ) : null}
                <div className="job-meta muted">
                  {job.message ? `${job.message} · ` : ''}started {formatTime(job.startedAt ?? job.createdAt)}
                  {job.finishedAt ? ` · finished ${formatTime(job.finishedAt)}` : ''}
                </div>
                {job.error && job.status !== 'cancelled' ? <div className="error-text">{job.error.message}</div> : null}
              </li>
            );
          })}
        </ul>
      </div>
    </aside>
  );
}
