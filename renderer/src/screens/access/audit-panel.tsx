import { useState, type FormEvent } from 'react';
import { formatTime } from '../../lib/format';
import { useAccessStore } from '../../stores/access-store';

/** The audit log, newest first, filtered by action, actor and time; exported as JSON lines. */
export function AuditPanel() {
  const { audit, auditFilter, loadAudit } = useAccessStore();
  const [action, setAction] = useState(auditFilter.action ?? '');
  const [actor, setActor] = useState(auditFilter.actor ?? '');
  const [since, setSince] = useState('');

  const apply = (event: FormEvent): void => {
    event.preventDefault();
    void loadAudit({
      ...(action.trim() ? { action: action.trim() } : {}),
      ...(actor.trim() ? { actor: actor.trim() } : {}),
      ...(since ? { since: new Date(since).toISOString() } : {}),
    });
  };

  const exportLines = (): void => {
    const text = audit.map((event) => JSON.stringify(event)).join('\n') + (audit.length ? '\n' : '');
    const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `torsh-depot-audit-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.jsonl`;
    link.click();
    URL.revokeObjectURL(url);
  };

  return (
    <div className="card" data-testid="audit-panel">
      <h2>Audit log</h2>
      <form className="row" onSubmit={apply} style={{ flexWrap: 'wrap' }}>
        <label className="field">
          <span>Action (exact, or a prefix ending in “.”)</span>
          <input value={action} onChange={(event) => setAction(event.target.value)} placeholder="package." data-testid="audit-action" />
        </label>
        <label className="field">
          <span>Actor (name or id)</span>
          <input value={actor} onChange={(event) => setActor(event.target.value)} placeholder="admin" />
        </label>
        <label className="field">
          <span>Since</span>
          <input type="datetime-local" value={since} onChange={(event) => setSince(event.target.value)} />
        </label>
        <button type="submit" className="button secondary" data-testid="audit-filter">
          Filter
        </button>
        <button type="button" className="button secondary" onClick={exportLines} disabled={audit.length === 0} data-testid="audit-export">
          Export JSON lines
        </button>
      </form>
      <p className="muted">
        {audit.length} event(s){audit.length >= 500 ? ' (the newest 500; narrow the filter for older ones)' : ''}. The log is append-only: nothing here can be changed.
      </p>
      <table className="table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Action</th>
            <th>Actor</th>
            <th>Target</th>
            <th>Source</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {audit.map((event) => (
            <tr key={event.id} data-testid="audit-row">
              <td>{formatTime(event.at)}</td>
              <td className="mono">{event.action}</td>
              <td>{event.actor ?? <span className="muted">anonymous</span>}</td>
              <td className="mono">{event.target ?? '—'}</td>
              <td className="mono">{event.source ?? '—'}</td>
              <td className="mono">{Object.keys(event.details).length ? JSON.stringify(event.details) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
