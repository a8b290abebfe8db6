import { useEffect, useState } from 'react';
import { ScreenHeader } from '../../components/screen-header';
import { useAccessStore } from '../../stores/access-store';
import { UsersPanel } from './users-panel';
import { RolesPanel } from './roles-panel';
import { KeysPanel } from './keys-panel';
import { PackageAccessPanel } from './package-access-panel';
import { AuditPanel } from './audit-panel';

const tabs = [
  { id: 'users', label: 'Users & grants' },
  { id: 'roles', label: 'Roles' },
  { id: 'keys', label: 'API keys' },
  { id: 'packages', label: 'Packages' },
  { id: 'audit', label: 'Audit log' },
] as const;
type TabId = (typeof tabs)[number]['id'];

/** Who may do what on this registry: users, roles, scoped grants, keys, package visibility, audit. */
export function AccessScreen() {
  const refresh = useAccessStore((state) => state.refresh);
  const error = useAccessStore((state) => state.error);
  const [tab, setTab] = useState<TabId>('users');

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <section className="screen" aria-labelledby="screen-title" data-testid="access-screen">
      <ScreenHeader title="Access" subtitle="Users, roles with scopes, API keys, package visibility and owners, and the audit log of this registry. You act as its local admin." />
      <fieldset className="segmented" aria-label="Access section">
        {tabs.map((entry) => (
          <label key={entry.id} className={tab === entry.id ? 'selected' : ''}>
            <input type="radio" name="access-tab" value={entry.id} checked={tab === entry.id} onChange={() => setTab(entry.id)} data-testid={`access-tab-${entry.id}`} />
            {entry.label}
          </label>
        ))}
      </fieldset>
      {error ? (
        <p className="error-text" role="alert" data-testid="access-error">
          {error}
        </p>
      ) : null}
      {tab === 'users' ? <UsersPanel /> : null}
      {tab === 'roles' ? <RolesPanel /> : null}
      {tab === 'keys' ? <KeysPanel /> : null}
      {tab === 'packages' ? <PackageAccessPanel /> : null}
      {tab === 'audit' ? <AuditPanel /> : null}
    </section>
  );
}
