import { useState } from 'react';
import { gaugeMetrics, type AlertStatus } from '../../../../shared/domain/metrics';
import { useMetricsStore } from '../../stores/metrics-store';
import { RuleEditor } from './rule-editor';

const silenceChoices = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '8 hours', ms: 8 * 3_600_000 },
  { label: '1 day', ms: 24 * 3_600_000 },
];

function condition(status: AlertStatus): string {
  const { rule } = status;
  const comparison = rule.kind === 'minimum' ? '<' : '>';
  const window = gaugeMetrics.includes(rule.metric) ? '' : ` over ${rule.windowMs / 1000} s`;
  const holding = rule.forMs > 0 ? `, for ${rule.forMs / 1000} s` : '';
  return `${rule.metric}${window} ${comparison} ${rule.threshold}${holding}`;
}

function since(time: number | null): string {
  return time === null ? '' : new Date(time).toLocaleTimeString();
}

/** Alert rules with their state, acknowledge and silence, the editor, and the recent history. */
export function AlertsPanel() {
  const { alerts, history, loadedAt: now, acknowledge, silence, removeRule } = useMetricsStore();
  const [editing, setEditing] = useState<AlertStatus['rule'] | 'new' | null>(null);
  return (
    <div className="card" data-testid="alerts-panel">
      <div className="row spread">
        <h2>Alerts</h2>
        {editing === null ? (
          <button type="button" className="button secondary" data-testid="rule-new" onClick={() => setEditing('new')}>
            New rule
          </button>
        ) : null}
      </div>
      {editing !== null ? <RuleEditor key={editing === 'new' ? 'new' : editing.id} editing={editing === 'new' ? null : editing} onDone={() => setEditing(null)} /> : null}
      {alerts.length === 0 ? (
        <p className="muted">No alert rules yet. A rule fires when its metric passes a threshold for long enough, and notifies here, on the desktop and on a webhook.</p>
      ) : (
        <table className="table" data-testid="alerts-table">
          <thead>
            <tr>
              <th>Rule</th>
              <th>Condition</th>
              <th>State</th>
              <th>Value</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {alerts.map((status) => {
              const silenced = status.silencedUntil !== null && status.silencedUntil > now;
              return (
                <tr key={status.rule.id} data-testid="alert-row" data-state={status.state}>
                  <td>
                    {status.rule.name}
                    <span className={`badge badge-severity-${status.rule.severity}`}>{status.rule.severity}</span>
                  </td>
                  <td className="mono">{condition(status)}</td>
                  <td>
                    <span className={`badge badge-alert-${status.state}`} data-testid="alert-state">
                      {status.state}
                    </span>
                    {status.state === 'firing' ? <span className="muted"> since {since(status.firedAt)}</span> : null}
                    {status.acknowledgedAt !== null ? (
                      <span className="badge" data-testid="alert-acknowledged">
                        acknowledged
                      </span>
                    ) : null}
                    {silenced ? <span className="badge">silenced until {since(status.silencedUntil)}</span> : null}
                  </td>
                  <td data-testid="alert-value">{status.value === null ? '—' : Number.isInteger(status.value) ? status.value : status.value.toFixed(2)}</td>
                  <td>
                    <div className="row">
                      {status.state === 'firing' && status.acknowledgedAt === null ? (
                        <button type="button" className="link-button" data-testid="alert-acknowledge" onClick={() => void acknowledge(status.rule.id)}>
                          Acknowledge
                        </button>
                      ) : null}
                      {silenced ? (
                        <button type="button" className="link-button" onClick={() => void silence(status.rule.id, null)}>
                          Lift silence
                        </button>
                      ) : (
                        <select
                          aria-label={`Silence ${status.rule.name}`}
                          data-testid="alert-silence"
                          value=""
                          onChange={(event) => {
                            if (event.target.value) void silence(status.rule.id, Number(event.target.value));
                          }}
                        >
                          <option value="">Silence…</option>
                          {silenceChoices.map((choice) => (
                            <option key={choice.ms} value={choice.ms}>
                              {choice.label}
                            </option>
                          ))}
                        </select>
                      )}
                      <button type="button" className="link-button" onClick={() => setEditing(status.rule)}>
                        Edit
                      </button>
                      <button type="button" className="link-button" onClick={() => void removeRule(status.rule.id)}>
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <h3>History</h3>
      {history.length === 0 ? (
        <p className="muted">Nothing has happened yet.</p>
      ) : (
        <ul className="plain alert-history" data-testid="alert-history">
          {history.map((entry) => (
            <li key={entry.id}>
              <span className="muted">{new Date(entry.at).toLocaleString()}</span> {entry.ruleName} <span className={`badge badge-alert-${entry.state}`}>{entry.state}</span>
              {entry.value !== null ? <span className="muted"> value {Number.isInteger(entry.value) ? entry.value : entry.value.toFixed(2)}</span> : null}
              {entry.silenced ? <span className="muted"> (silenced)</span> : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
