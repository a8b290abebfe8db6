import { useState, type FormEvent } from 'react';
import { useAccessStore } from '../../stores/access-store';

/** Users with their grants; add users, grant roles on `*` or a package pattern, take grants back. */
export function UsersPanel() {
  const { users, roles, createUser, setUserActive, grantRole, revokeGrant } = useAccessStore();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [grantFor, setGrantFor] = useState<Record<string, { role: string; scope: string }>>({});

  const grantsOf = (userId: string) => roles.flatMap((role) => role.grants.filter((grant) => grant.user_id === userId));

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (await createUser(name.trim(), email.trim())) {
      setName('');
      setEmail('');
    }
  };

  return (
    <div className="card" data-testid="users-panel">
      <h2>Users</h2>
      <table className="table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Grants (role on scope)</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => {
            const draft = grantFor[user.id] ?? { role: 'viewer', scope: '*' };
            return (
              <tr key={user.id} data-testid="user-row">
                <td>
                  <strong>{user.name}</strong>
                  <div className="muted mono">{user.id}</div>
                </td>
                <td>{user.email || <span className="muted">—</span>}</td>
                <td>
                  <ul className="plain">
                    {grantsOf(user.id).map((grant) => (
                      <li key={grant.id}>
                        <span className="tag">{grant.role}</span> on <code>{grant.scope}</code>{' '}
                        <button type="button" className="link-button" onClick={() => void revokeGrant(user.id, grant.id)} aria-label={`Revoke ${grant.role} on ${grant.scope} from ${user.name}`}>
                          revoke
                        </button>
                      </li>
                    ))}
                  </ul>
                  <form
                    className="row"
                    onSubmit={(event) => {
                      event.preventDefault();
                      void grantRole(user.id, draft.role, draft.scope.trim() || '*');
                    }}
                  >
                    <select aria-label={`Role to grant ${user.name}`} value={draft.role} onChange={(event) => setGrantFor({ ...grantFor, [user.id]: { ...draft, role: event.target.value } })}>
                      {roles.map((role) => (
                        <option key={role.name} value={role.name}>
                          {role.name}
                        </option>
                      ))}
                    </select>
                    <input aria-label={`Scope for ${user.name}`} className="mono" value={draft.scope} onChange={(event) => setGrantFor({ ...grantFor, [user.id]: { ...draft, scope: event.target.value } })} placeholder="* or vision/*" size={12} />
                    <button type="submit" className="link-button" data-testid="grant-button">
                      Grant
                    </button>
                  </form>
                </td>
                <td>
                  <span className={`badge ${user.active ? 'badge-succeeded' : 'badge-failed'}`}>{user.active ? 'active' : 'deactivated'}</span>{' '}
                  {user.id !== 'local' ? (
                    <button type="button" className="link-button" onClick={() => void setUserActive(user.id, !user.active)}>
                      {user.active ? 'Deactivate' : 'Activate'}
                    </button>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <h3>Add a user</h3>
        <div className="grid-2">
          <label className="field">
            <span>Name</span>
            <input value={name} onChange={(event) => setName(event.target.value)} data-testid="new-user-name" required />
          </label>
          <label className="field">
            <span>Email</span>
            <input type="email" value={email} onChange={(event) => setEmail(event.target.value)} data-testid="new-user-email" required />
          </label>
        </div>
        <button type="submit" className="button secondary" data-testid="create-user">
          Add user
        </button>
      </form>
    </div>
  );
}
