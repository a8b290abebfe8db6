import { useState, type FormEvent } from 'react';
import { permissions, type Permission } from '../../../../shared/domain/access';
import { formatTime } from '../../lib/format';
import { useAccessStore } from '../../stores/access-store';

/** API keys: create (shown once, with a copy button), optional expiry and narrowing, revoke. */
export function KeysPanel() {
  const { users, keys, createdKey, createKey, dismissCreatedKey, revokeKey } = useAccessStore();
  const [userId, setUserId] = useState('');
  const [label, setLabel] = useState('');
  const [expires, setExpires] = useState('');
  const [narrow, setNarrow] = useState(false);
  const [chosen, setChosen] = useState<Permission[]>(['ViewMetadata', 'DownloadPackage']);
  const [copied, setCopied] = useState(false);
  const nameOf = (id: string | null) => users.find((user) => user.id === id)?.name ?? id ?? '—';
  const activeUsers = users.filter((user) => user.active);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const owner = userId || activeUsers[0]?.id;
    if (!owner) return;
    setCopied(false);
    const ok = await createKey({
      userId: owner,
      ...(label.trim() ? { label: label.trim() } : {}),
      // A date picks the end of that day in local time.
      ...(expires ? { expiresAt: new Date(`${expires}T23:59:59`).toISOString() } : {}),
      ...(narrow ? { permissions: chosen } : {}),
    });
    if (ok) setLabel('');
  };

  const copy = async (key: string): Promise<void> => {
    await navigator.clipboard.writeText(key);
    setCopied(true);
  };

  return (
    <div className="card" data-testid="keys-panel">
      <h2>API keys</h2>
      {createdKey ? (
        <div className="notice" role="status" data-testid="created-key">
          <p>
            New key for <strong>{createdKey.userName}</strong>. Copy it now: it is stored only as a hash and is not shown again.
          </p>
          <div className="row">
            <code className="mono" data-testid="created-key-value">
              {createdKey.key}
            </code>
            <button type="button" className="button secondary" onClick={() => void copy(createdKey.key)} data-testid="copy-key">
              {copied ? 'Copied' : 'Copy'}
            </button>
            <button type="button" className="link-button" onClick={dismissCreatedKey}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      <table className="table">
        <thead>
          <tr>
            <th>Key</th>
            <th>User</th>
            <th>Permissions</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id} data-testid="key-row">
              <td>
                <span className="mono">{key.prefix}…</span>
                <div className="muted">{key.label}</div>
              </td>
              <td>{nameOf(key.user_id)}</td>
              <td>{key.permissions ? key.permissions.join(', ') : <span className="muted">all of the user&apos;s</span>}</td>
              <td>{key.expires_at ? formatTime(key.expires_at) : <span className="muted">never</span>}</td>
              <td>{key.last_used_at ? formatTime(key.last_used_at) : <span className="muted">never</span>}</td>
              <td>
                {key.revoked_at ? (
                  <span className="badge badge-failed">revoked</span>
                ) : (
                  <button type="button" className="link-button" onClick={() => void revokeKey(key.id)} data-testid="revoke-key">
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <h3>Create a key</h3>
        <div className="grid-3">
          <label className="field">
            <span>User</span>
            <select value={userId || activeUsers[0]?.id || ''} onChange={(event) => setUserId(event.target.value)} data-testid="new-key-user">
              {activeUsers.map((user) => (
                <option key={user.id} value={user.id}>
                  {user.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Label</span>
            <input value={label} onChange={(event) => setLabel(event.target.value)} placeholder="CI pipeline" />
          </label>
          <label className="field">
            <span>Expires (optional)</span>
            <input type="date" value={expires} onChange={(event) => setExpires(event.target.value)} data-testid="new-key-expires" />
          </label>
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={narrow} onChange={(event) => setNarrow(event.target.checked)} />
          Narrow this key to some of its user&apos;s permissions
        </label>
        {narrow ? (
          <fieldset className="row" style={{ flexWrap: 'wrap', border: 'none', padding: 0 }}>
            {permissions.map((permission) => (
              <label key={permission} className="checkbox">
                <input type="checkbox" checked={chosen.includes(permission)} onChange={(event) => setChosen(event.target.checked ? [...chosen, permission] : chosen.filter((entry) => entry !== permission))} />
                {permission}
              </label>
            ))}
          </fieldset>
        ) : null}
        <button type="submit" className="button secondary" data-testid="create-key">
          Create key
        </button>
      </form>
    </div>
  );
}
