import { visibilities, type Visibility } from '../../../../shared/domain/access';
import { useAccessStore } from '../../stores/access-store';

const visibilityHelp: Record<Visibility, string> = {
  public: 'anyone, even without a key, may view and download',
  internal: 'any user with a key may view and download',
  private: 'only owners and users with a grant on its name',
};

/** Visibility and owners of every package, and the visibility new packages get. */
export function PackageAccessPanel() {
  const { packages, users, defaultVisibility, updatePackage, setDefaultVisibility } = useAccessStore();
  const nameOf = (id: string) => users.find((user) => user.id === id)?.name ?? id;

  return (
    <div className="card" data-testid="package-access-panel">
      <h2>Package visibility and owners</h2>
      <label className="field">
        <span>New packages are</span>
        <select value={defaultVisibility ?? 'internal'} onChange={(event) => void setDefaultVisibility(event.target.value as Visibility)} data-testid="default-visibility">
          {visibilities.map((visibility) => (
            <option key={visibility} value={visibility}>
              {visibility} — {visibilityHelp[visibility]}
            </option>
          ))}
        </select>
      </label>
      {packages.length === 0 ? <p className="muted">No packages yet.</p> : null}
      <table className="table">
        <thead>
          <tr>
            <th>Package</th>
            <th>Visibility</th>
            <th>Owners (may do everything on it)</th>
          </tr>
        </thead>
        <tbody>
          {packages.map((entry) => (
            <tr key={entry.name} data-testid="package-access-row">
              <td className="mono">{entry.name}</td>
              <td>
                <select aria-label={`Visibility of ${entry.name}`} value={entry.visibility} onChange={(event) => void updatePackage(entry.name, { visibility: event.target.value as Visibility })}>
                  {visibilities.map((visibility) => (
                    <option key={visibility} value={visibility}>
                      {visibility}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <ul className="plain row" style={{ flexWrap: 'wrap' }}>
                  {entry.owners.map((owner) => (
                    <li key={owner}>
                      <span className="tag">{nameOf(owner)}</span>{' '}
                      <button type="button" className="link-button" aria-label={`Remove ${nameOf(owner)} as owner of ${entry.name}`} onClick={() => void updatePackage(entry.name, { owners: entry.owners.filter((id) => id !== owner) })}>
                        ×
                      </button>
                    </li>
                  ))}
                </ul>
                <select
                  aria-label={`Add an owner to ${entry.name}`}
                  value=""
                  onChange={(event) => {
                    if (event.target.value) void updatePackage(entry.name, { owners: [...entry.owners, event.target.value] });
                  }}
                >
                  <option value="">add owner…</option>
                  {users
                    .filter((user) => !entry.owners.includes(user.id))
                    .map((user) => (
                      <option key={user.id} value={user.id}>
                        {user.name}
                      </option>
                    ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
