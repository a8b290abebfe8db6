import { useState, type FormEvent } from 'react';
import { permissions, type Permission } from '../../../../shared/domain/access';
import { useAccessStore } from '../../stores/access-store';

/** Roles as a permission matrix; custom roles can be added and (when not granted) deleted. */
export function RolesPanel() {
  const { roles, createRole, deleteRole } = useAccessStore();
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<Permission[]>([]);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (await createRole(name.trim(), chosen)) {
      setName('');
      setChosen([]);
    }
  };

  return (
    <div className="card" data-testid="roles-panel">
      <h2>Roles</h2>
      <div style={{ overflowX: 'auto' }}>
        <table className="table" data-testid="permission-matrix">
          <thead>
            <tr>
              <th>Role</th>
              {permissions.map((permission) => (
                <th key={permission} scope="col" title={permission}>
                  {permission.replace(/([a-z])([A-Z])/g, '$1 $2')}
                </th>
              ))}
              <th>Grants</th>
            </tr>
          </thead>
          <tbody>
            {roles.map((role) => (
              <tr key={role.name} data-testid={`role-${role.name}`}>
                <th scope="row">
                  {role.name} <span className="muted">{role.builtin ? 'built-in' : 'custom'}</span>
                </th>
                {permissions.map((permission) => (
                  <td key={permission} aria-label={`${role.name} ${role.permissions.includes(permission) ? 'has' : 'lacks'} ${permission}`}>
                    {role.permissions.includes(permission) ? '✓' : ''}
                  </td>
                ))}
                <td>
                  {role.grants.length}
                  {!role.builtin ? (
                    <>
                      {' '}
                      <button type="button" className="link-button" onClick={() => void deleteRole(role.name)} disabled={role.grants.length > 0} title={role.grants.length > 0 ? 'Revoke its grants first' : undefined}>
                        delete
                      </button>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <h3>Add a custom role</h3>
        <label className="field">
          <span>Name (lowercase letters, digits and -)</span>
          <input value={name} onChange={(event) => setName(event.target.value)} data-testid="new-role-name" required />
        </label>
        <fieldset className="row" style={{ flexWrap: 'wrap', border: 'none', padding: 0 }}>
          <legend className="muted">Permissions</legend>
          {permissions.map((permission) => (
            <label key={permission} className="checkbox">
              <input
                type="checkbox"
                checked={chosen.includes(permission)}
                onChange={(event) => setChosen(event.target.checked ? [...chosen, permission] : chosen.filter((entry) => entry !== permission))}
              />
              {permission}
            </label>
          ))}
        </fieldset>
        <button type="submit" className="button secondary" data-testid="create-role">
          Add role
        </button>
      </form>
    </div>
  );
}
