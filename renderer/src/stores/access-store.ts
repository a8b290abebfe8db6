import { create } from 'zustand';
import type { ApiKeyInfo, AuditEvent, AuditFilter, PackageAccess, Permission, Role, User, Visibility } from '../../../shared/domain/access';
import { requireClient } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';

interface AccessStore {
  users: User[];
  roles: Role[];
  keys: ApiKeyInfo[];
  packages: PackageAccess[];
  audit: AuditEvent[];
  auditFilter: AuditFilter;
  defaultVisibility: Visibility | null;
  /** The secret of the key just created: shown once, then forgotten. */
  createdKey: { id: string; key: string; userName: string } | null;
  error: string | null;
  refresh(): Promise<void>;
  createUser(name: string, email: string): Promise<boolean>;
  setUserActive(id: string, active: boolean): Promise<void>;
  grantRole(userId: string, role: string, scope: string): Promise<boolean>;
  revokeGrant(userId: string, grantId: string): Promise<void>;
  createRole(name: string, permissions: Permission[]): Promise<boolean>;
  deleteRole(name: string): Promise<void>;
  createKey(input: { userId: string; label?: string; expiresAt?: string | null; permissions?: Permission[] | null }): Promise<boolean>;
  dismissCreatedKey(): void;
  revokeKey(id: string): Promise<void>;
  updatePackage(name: string, changes: { visibility?: Visibility; owners?: string[] }): Promise<void>;
  setDefaultVisibility(visibility: Visibility): Promise<void>;
  loadAudit(filter: AuditFilter): Promise<void>;
}

export const useAccessStore = create<AccessStore>((set, get) => {
  /** Runs a change, then reloads everything it may have touched; errors land in `error`. */
  const change = async (work: () => Promise<unknown>): Promise<boolean> => {
    try {
      await work();
      set({ error: null });
      await get().refresh();
      return true;
    } catch (error) {
      set({ error: errorMessage(error) });
      return false;
    }
  };
  return {
    users: [],
    roles: [],
    keys: [],
    packages: [],
    audit: [],
    auditFilter: {},
    defaultVisibility: null,
    createdKey: null,
    error: null,
    async refresh() {
      const client = requireClient();
      try {
        const [users, roles, keys, packages, settings, audit] = await Promise.all([
          client.request('access.listUsers', {}),
          client.request('access.listRoles', {}),
          client.request('access.listKeys', {}),
          client.request('access.listPackages', {}),
          client.request('access.settings', {}),
          client.request('access.audit', { ...get().auditFilter, limit: 500 }),
        ]);
        set({ users, roles, keys, packages, defaultVisibility: settings.defaultVisibility, audit });
      } catch (error) {
        set({ error: errorMessage(error) });
      }
    },
    createUser: (name, email) => change(() => requireClient().request('access.createUser', { name, email })),
    setUserActive: async (id, active) => void (await change(() => requireClient().request('access.updateUser', { id, active }))),
    grantRole: (userId, role, scope) => change(() => requireClient().request('access.grantRole', { userId, role, scope })),
    revokeGrant: async (userId, grantId) => void (await change(() => requireClient().request('access.revokeGrant', { userId, grantId }))),
    createRole: (name, permissions) => change(() => requireClient().request('access.createRole', { name, permissions })),
    deleteRole: async (name) => void (await change(() => requireClient().request('access.deleteRole', { name }))),
    createKey: (input) =>
      change(async () => {
        const created = await requireClient().request('access.createKey', input);
        const userName = get().users.find((user) => user.id === input.userId)?.name ?? input.userId;
        set({ createdKey: { id: created.id, key: created.key, userName } });
      }),
    dismissCreatedKey: () => set({ createdKey: null }),
    revokeKey: async (id) => void (await change(() => requireClient().request('access.revokeKey', { id }))),
    updatePackage: async (name, changes) => void (await change(() => requireClient().request('access.updatePackage', { name, ...changes }))),
    setDefaultVisibility: async (visibility) => void (await change(() => requireClient().request('access.setDefaultVisibility', { visibility }))),
    async loadAudit(filter) {
      set({ auditFilter: filter });
      try {
        set({ audit: await requireClient().request('access.audit', { ...filter, limit: 500 }), error: null });
      } catch (error) {
        set({ error: errorMessage(error) });
      }
    },
  };
});
