import { useState } from 'react';
import { formatTime } from '../../lib/format';
import { useBackupsStore } from '../../stores/backups-store';

/** Recovery points: a version's snapshot kept until released; restore brings the version back as it was. */
export function RecoveryPointsCard() {
  const { recoveryPoints, createRecoveryPoint, releaseRecoveryPoint, restoreRecoveryPoint, selected } = useBackupsStore();
  const [name, setName] = useState('');
  const [version, setVersion] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="card" data-testid="recovery-points">
      <h2>Recovery points</h2>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void createRecoveryPoint(name.trim(), version.trim(), note).then((failure) => {
            setError(failure);
            if (failure === null) setNote('');
          });
        }}
      >
        <label>
          Package
          <input value={name} onChange={(event) => setName(event.target.value)} required />
        </label>
        <label>
          Version
          <input value={version} onChange={(event) => setVersion(event.target.value)} required size={10} />
        </label>
        <label>
          Note
          <input value={note} onChange={(event) => setNote(event.target.value)} placeholder="Before production deployment" />
        </label>
        <button type="submit" className="button secondary" disabled={!selected}>
          Create recovery point
        </button>
      </form>
      <p className="notice notice-error" role="alert" hidden={!error}>
        {error}
      </p>
      {recoveryPoints.length === 0 ? (
        <p className="muted">No recovery points.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Version</th>
              <th>Taken</th>
              <th>Note</th>
              <th>Repository</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {recoveryPoints.map((point) => (
              <tr key={point.id} data-testid="recovery-point-row">
                <td>
                  {point.package}@{point.version}
                </td>
                <td>{formatTime(point.createdAt)}</td>
                <td>{point.note ?? '—'}</td>
                <td>{point.repositoryId}</td>
                <td className="actions">
                  <button type="button" className="button secondary small" onClick={() => void restoreRecoveryPoint(point.id)} aria-label={`Restore ${point.package}@${point.version} to this point`}>
                    Restore
                  </button>
                  <button type="button" className="button secondary small" onClick={() => void releaseRecoveryPoint(point.id)}>
                    Release
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
