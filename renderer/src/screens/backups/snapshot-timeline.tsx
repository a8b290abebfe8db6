import { useState } from 'react';
import type { SnapshotSummary } from '../../../../shared/domain/backup';
import { formatBytes, formatTime } from '../../lib/format';
import { useBackupsStore } from '../../stores/backups-store';

/** Cumulative dedup ratio after each snapshot: everything backed up so far / what it added. */
export function dedupSeries(snapshots: SnapshotSummary[]): number[] {
  let logical = 0;
  let added = 0;
  return snapshots.map((snapshot) => {
    logical += snapshot.stats.logicalBytes;
    added += snapshot.stats.addedBytes;
    return added > 0 ? logical / added : 1;
  });
}

/** The dedup ratio over time, as a small line chart (no chart library: one polyline). */
export function DedupChart({ snapshots }: { snapshots: SnapshotSummary[] }) {
  const series = dedupSeries(snapshots);
  if (series.length === 0) return null;
  const width = 320;
  const height = 90;
  const max = Math.max(...series, 1);
  const x = (index: number): number => (series.length === 1 ? width / 2 : (index / (series.length - 1)) * (width - 8) + 4);
  const y = (value: number): number => height - 6 - ((value - 0) / max) * (height - 16);
  const last = series.at(-1) ?? 1;
  return (
    <figure className="dedup-chart" data-testid="dedup-chart">
      <svg width={width} height={height} role="img" aria-label={`Dedup ratio over ${series.length} snapshots, now ${last.toFixed(2)}×`}>
        <line x1={4} x2={width - 4} y1={y(1)} y2={y(1)} className="dedup-baseline" />
        <polyline points={series.map((value, index) => `${x(index)},${y(value)}`).join(' ')} className="dedup-line" />
        {series.map((value, index) => (
          <circle key={index} cx={x(index)} cy={y(value)} r={2.5} className="dedup-point" />
        ))}
      </svg>
      <figcaption className="muted">Dedup ratio (logical ÷ added, cumulative): {last.toFixed(2)}×</figcaption>
    </figure>
  );
}

/** Snapshots, newest first: when, what, logical vs added size, tags; restore into a folder or a version into the registry. */
export function SnapshotTimeline({ snapshots }: { snapshots: SnapshotSummary[] }) {
  const [restoring, setRestoring] = useState<string | null>(null);
  const largest = Math.max(1, ...snapshots.map((snapshot) => snapshot.stats.logicalBytes));
  if (snapshots.length === 0) return <p className="muted" data-testid="snapshots-empty">No snapshots yet: run a backup.</p>;
  return (
    <ol className="snapshot-timeline">
      {[...snapshots].reverse().map((snapshot) => (
        <li key={snapshot.id} className="snapshot-entry" data-testid="snapshot-row" data-snapshot={snapshot.id}>
          <div className="snapshot-head">
            <code title={snapshot.id}>{snapshot.id.slice(0, 12)}</code>
            <span>{formatTime(snapshot.time)}</span>
            <span className="badge">{snapshot.strategy}</span>
            <span className="muted">
              {snapshot.source.kind}: {snapshot.source.label}
            </span>
            {snapshot.tags.map((tag) => (
              <span key={tag} className="badge badge-tag">
                {tag}
              </span>
            ))}
            <button type="button" className="button secondary small" onClick={() => setRestoring(restoring === snapshot.id ? null : snapshot.id)} aria-label={`Restore ${snapshot.id.slice(0, 12)}`}>
              Restore…
            </button>
          </div>
          <div className="snapshot-size" title={`${formatBytes(snapshot.stats.logicalBytes)} logical, ${formatBytes(snapshot.stats.addedBytes)} added`}>
            <div className="size-logical" style={{ width: `${(100 * snapshot.stats.logicalBytes) / largest}%` }}>
              <div className="size-added" style={{ width: `${snapshot.stats.logicalBytes > 0 ? (100 * snapshot.stats.addedBytes) / snapshot.stats.logicalBytes : 0}%` }} />
            </div>
          </div>
          <p className="muted snapshot-numbers" data-testid="snapshot-size">
            {snapshot.fileCount} files · {formatBytes(snapshot.stats.logicalBytes)} logical · {formatBytes(snapshot.stats.addedBytes)} added{snapshot.note ? ` · “${snapshot.note}”` : ''}
          </p>
          {restoring === snapshot.id ? <RestoreForm snapshot={snapshot} onDone={() => setRestoring(null)} /> : null}
        </li>
      ))}
    </ol>
  );
}

function RestoreForm({ snapshot, onDone }: { snapshot: SnapshotSummary; onDone: () => void }) {
  const { restore, restoreVersion } = useBackupsStore();
  const holdsVersions = snapshot.source.kind === 'version' || snapshot.source.kind === 'set';
  const label = snapshot.source.kind === 'version' ? snapshot.source.label : '';
  const at = label.lastIndexOf('@');
  const [name, setName] = useState(at > 0 ? label.slice(0, at) : '');
  const [version, setVersion] = useState(at > 0 ? label.slice(at + 1) : '');
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<string | null>): Promise<void> => {
    const failure = await action();
    setError(failure);
    if (failure === null) onDone();
  };
  return (
    <div className="restore-form" data-testid="restore-form">
      {holdsVersions ? (
        <form
          className="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            void run(() => restoreVersion(snapshot.id, name.trim(), version.trim()));
          }}
        >
          <label>
            Package
            <input value={name} onChange={(event) => setName(event.target.value)} required />
          </label>
          <label>
            Version
            <input value={version} onChange={(event) => setVersion(event.target.value)} required />
          </label>
          <button type="submit" className="button">
            Restore version into the registry
          </button>
        </form>
      ) : null}
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(() => restore(snapshot.id, target.trim()));
        }}
      >
        <label>
          Folder on the host
          <input value={target} onChange={(event) => setTarget(event.target.value)} placeholder="/srv/restore/2026-12-02" required />
        </label>
        <button type="submit" className="button secondary">
          Restore files
        </button>
      </form>
      <p className="notice notice-error" role="alert" hidden={!error}>
        {error}
      </p>
    </div>
  );
}
