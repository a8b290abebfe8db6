import { useCallback, useState } from 'react';
import type { MirrorConfig } from '../../../../shared/domain/mirrors';
import { ScreenHeader } from '../../components/screen-header';
import { ProgressBar } from '../../components/progress-bar';
import { formatBytes, formatTime } from '../../lib/format';
import { usePolling } from '../../lib/use-polling';
import { isActive, useJobsStore } from '../../stores/jobs-store';
import { useMirrorsStore } from '../../stores/mirrors-store';
import { LatencySparkline } from './latency-sparkline';
import { MirrorForm, RegionOptions } from './mirror-form';
import { MirrorMap } from './mirror-map';
import { agoText, stalenessText, statusDotClass, statusLabels } from './mirror-status';
import { RankPreview } from './rank-preview';
import './mirrors-screen.css';

/** How often the open screen re-reads health (the host checks on its own interval). */
const refreshMs = 5_000;

/** Mirrors: the set with health and traffic, add/edit/remove, selection preview, checks, sync and a map. */
export function MirrorsScreen() {
  const { mirrors, stats, loaded, error, checkingAll, refresh, check } = useMirrorsStore();
  const [editing, setEditing] = useState<MirrorConfig | 'new' | null>(null);
  const [clientRegion, setClientRegion] = useState<string | null>(null);
  const onClientRegion = useCallback((region: string | null) => setClientRegion(region), []);

  usePolling(refresh, refreshMs);

  return (
    <section className="screen mirrors-screen" aria-labelledby="screen-title" data-testid="mirrors-screen">
      <ScreenHeader
        title="Mirrors"
        subtitle="Static servers and buckets holding copies of the registry: their health, where they are, and who serves whom."
        actions={
          <>
            <button type="button" className="button secondary" disabled={checkingAll || mirrors.length === 0} onClick={() => void check()}>
              {checkingAll ? 'Checking…' : 'Check all'}
            </button>
            <button type="button" className="button" onClick={() => setEditing('new')} disabled={editing !== null}>
              Add mirror
            </button>
          </>
        }
      />
      <RegionOptions />
      <p className="notice notice-error mirrors-error" role="alert" hidden={!error}>
        {error}
      </p>
      {editing !== null ? <MirrorForm key={editing === 'new' ? 'new' : editing.id} editing={editing === 'new' ? null : editing} onDone={() => setEditing(null)} /> : null}
      <div className="card mirrors-table-card">
        <div className="mirrors-table-head">
          <h2>Mirror set</h2>
          {stats ? (
            <span className="muted" data-testid="mirrors-summary">
              {stats.healthy} of {stats.total} healthy · registry serial {stats.registrySerial}
            </span>
          ) : null}
        </div>
        {!loaded ? (
          <p className="muted mirrors-placeholder" aria-busy="true">
            Loading mirrors…
          </p>
        ) : mirrors.length === 0 ? (
          <div className="empty-state mirrors-placeholder" data-testid="mirrors-empty">
            <p>No mirrors yet.</p>
            <p className="muted">
              A mirror is any static HTTP(S) server or bucket holding a synced copy (index.json, packages/…). Add one here or list them under <code>mirrors.list</code> in
              depot.yaml.
            </p>
          </div>
        ) : (
          <MirrorTable onEdit={(config) => setEditing(config)} />
        )}
      </div>
      <div className="mirrors-grid">
        <RankPreview onClientRegion={onClientRegion} />
        <div className="card">
          <h2>Where they are</h2>
          <MirrorMap mirrors={mirrors} clientRegion={clientRegion} />
        </div>
      </div>
      <SyncCard />
    </section>
  );
}

function MirrorTable({ onEdit }: { onEdit: (config: MirrorConfig) => void }) {
  const { mirrors, checking, check, refreshedAt } = useMirrorsStore();
  return (
    <div className="mirrors-table-scroll">
      <table className="table mirrors-table">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Mirror</th>
            <th scope="col">Region</th>
            <th scope="col" className="num">
              Priority
            </th>
            <th scope="col" className="num">
              Weight
            </th>
            <th scope="col">Latency</th>
            <th scope="col">Staleness</th>
            <th scope="col">Last check</th>
            <th scope="col" className="num">
              Downloads
            </th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {mirrors.map((view) => {
            const { config, health } = view;
            const status = config.enabled ? health.status : 'unknown';
            const isChecking = checking.includes(config.id);
            return (
              <tr key={config.id} data-testid="mirror-row" data-mirror={config.id} data-status={status}>
                <td>
                  <span className="mirror-status" title={health.lastError ?? undefined}>
                    <span className={statusDotClass(status)} aria-hidden="true" />
                    <span data-testid="mirror-status">{config.enabled ? statusLabels[status] : 'Disabled'}</span>
                  </span>
                </td>
                <td className="mirror-name">
                  <strong className="mono">{config.id}</strong>
                  <div className="muted mono mirror-url" title={config.url}>
                    {config.url}
                  </div>
                  {health.lastError && status !== 'healthy' ? (
                    <div className="error-text mirror-last-error" title={health.lastError}>
                      {health.lastError}
                    </div>
                  ) : null}
                </td>
                <td className="mono nowrap">{config.region ?? '—'}</td>
                <td className="num">{config.priority}</td>
                <td className="num">{config.weight}</td>
                <td>
                  <span className="mirror-latency">
                    <LatencySparkline points={view.latencyHistory} width={56} />
                    <span className="num">{health.latencyMs === null ? '—' : `${Math.round(health.latencyMs)} ms`}</span>
                  </span>
                </td>
                <td className="nowrap">{stalenessText(health)}</td>
                <td className="nowrap" title={formatTime(health.lastCheckAt)}>{agoText(health.lastCheckAt, refreshedAt)}</td>
                <td className="num" title={formatBytes(view.stats.bytes)}>
                  {view.stats.downloads}
                </td>
                <td className="mirror-actions">
                  <button type="button" className="link-button" disabled={isChecking} onClick={() => void check(config.id)} aria-label={`Check ${config.id} now`}>
                    {isChecking ? 'Checking…' : 'Check now'}
                  </button>
                  <button type="button" className="link-button" onClick={() => onEdit(config)} aria-label={`Edit ${config.id}`}>
                    Edit
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** "Sync now": one job copying what the mirrors' sync_to targets lack, with progress and cancel. */
function SyncCard() {
  const { mirrors, syncJobId, sync } = useMirrorsStore();
  const jobs = useJobsStore((state) => state.jobs);
  const cancel = useJobsStore((state) => state.cancel);
  const job = syncJobId ? jobs.find((candidate) => candidate.id === syncJobId) : undefined;
  const targets = mirrors.filter((view) => view.config.sync_to !== undefined);
  const running = job !== undefined && isActive(job);
  return (
    <div className="card mirrors-sync" data-testid="mirrors-sync">
      <div className="mirrors-table-head">
        <h2>Sync</h2>
        <div className="row">
          {running ? (
            <button type="button" className="button secondary" onClick={() => void cancel(job.id)}>
              Cancel sync
            </button>
          ) : null}
          <button type="button" className="button" disabled={running || targets.length === 0} onClick={() => void sync()}>
            Sync now
          </button>
        </div>
      </div>
      <p className="muted">
        {targets.length === 0
          ? 'No mirror has a sync_to storage URL: set one to let this host write it.'
          : `Copies what ${targets.map((view) => view.config.id).join(', ')} lack${targets.length === 1 ? 's' : ''}; index.json is written last.`}
      </p>
      <div className="mirrors-sync-status" data-testid="mirrors-sync-status">
        {job ? (
          <>
            <ProgressBar value={job.progress} label={job.title} />
            <span className={job.status === 'failed' ? 'error-text' : 'muted'}>
              {job.status === 'failed' ? job.error?.message : job.status === 'succeeded' ? 'Synced.' : job.status === 'cancelled' ? 'Cancelled.' : (job.message ?? 'Syncing…')}
            </span>
          </>
        ) : null}
      </div>
    </div>
  );
}
