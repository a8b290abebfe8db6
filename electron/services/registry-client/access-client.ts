import { z } from 'zod';
import {
  apiKeyInfoSchema,
  auditEventSchema,
  grantSchema,
  packageAccessSchema,
  permissionSchema,
  roleSchema,
  userSchema,
  type ApiKeyInfo,
  type AuditEvent,
  type AuditFilter,
  type Grant,
  type PackageAccess,
  type Permission,
  type Role,
  type User,
  type Visibility,
} from '../../../shared/domain/access';
import type { RegistryClient } from './registry-client';

const whoamiSchema = z.object({
  user: userSchema.nullable(),
  permissions: z.array(permissionSchema),
  grants: z.array(z.object({ role: z.string(), scope: z.string() })),
  key: z.object({ id: z.string(), permissions: z.array(permissionSchema).nullable() }).nullable(),
});
export type Whoami = z.infer<typeof whoamiSchema>;
const createdKeySchema = apiKeyInfoSchema.extend({ key: z.string() });

/** Client of a registry's access-control API (`/api/v1/users|roles|keys|whoami|audit`), over RegistryClient's HTTP. */
export class AccessClient {
  constructor(private readonly client: RegistryClient) {}

  whoami(): Promise<Whoami> {
    return this.client.sendJson('GET', '/whoami', whoamiSchema, 'whoami');
  }

  async listUsers(): Promise<User[]> {
    return (await this.client.sendJson('GET', '/users', z.object({ users: z.array(userSchema) }), 'Users')).users;
  }

  createUser(name: string, email: string): Promise<User> {
    return this.client.sendJson('POST', '/users', userSchema, `User ${name}`, { body: { name, email } });
  }

  updateUser(id: string, changes: { active?: boolean; name?: string; email?: string }): Promise<User> {
    return this.client.sendJson('PATCH', `/users/${encodeURIComponent(id)}`, userSchema, `User ${id}`, { body: changes });
  }

  grant(userId: string, role: string, scope: string): Promise<Grant> {
    return this.client.sendJson('POST', `/users/${encodeURIComponent(userId)}/grants`, grantSchema, `Grant ${role} on ${scope}`, { body: { role, scope } });
  }

  async grantsOf(userId: string): Promise<Grant[]> {
    return (await this.client.sendJson('GET', `/users/${encodeURIComponent(userId)}/grants`, z.object({ grants: z.array(grantSchema) }), `Grants of ${userId}`)).grants;
  }

  async revokeGrant(userId: string, grantId: string): Promise<void> {
    await this.client.sendJson('DELETE', `/users/${encodeURIComponent(userId)}/grants/${encodeURIComponent(grantId)}`, z.null(), `Grant ${grantId}`);
  }

  async listRoles(): Promise<Role[]> {
    return (await this.client.sendJson('GET', '/roles', z.object({ roles: z.array(roleSchema) }), 'Roles')).roles;
  }

  createRole(name: string, permissions: Permission[]): Promise<Role> {
    return this.client.sendJson('POST', '/roles', roleSchema, `Role ${name}`, { body: { name, permissions } });
  }

  updateRole(name: string, permissions: Permission[]): Promise<Role> {
    return this.client.sendJson('PATCH', `/roles/${encodeURIComponent(name)}`, roleSchema, `Role ${name}`, { body: { permissions } });
  }

  async deleteRole(name: string): Promise<void> {
    await this.client.sendJson('DELETE', `/roles/${encodeURIComponent(name)}`, z.null(), `Role ${name}`);
  }

  createKey(request: { userId: string; label?: string; expiresAt?: string; permissions?: Permission[] }): Promise<ApiKeyInfo & { key: string }> {
    const body = {
      user_id: request.userId,
      ...(request.label !== undefined ? { label: request.label } : {}),
      ...(request.expiresAt !== undefined ? { expires_at: request.expiresAt } : {}),
      ...(request.permissions !== undefined ? { permissions: request.permissions } : {}),
    };
    return this.client.sendJson('POST', '/keys', createdKeySchema, `Key for ${request.userId}`, { body });
  }

  async listKeys(userId?: string): Promise<ApiKeyInfo[]> {
    const query = userId === undefined ? '' : `?${new URLSearchParams({ user_id: userId }).toString()}`;
    return (await this.client.sendJson('GET', `/keys${query}`, z.object({ keys: z.array(apiKeyInfoSchema) }), 'Keys')).keys;
  }

  async revokeKey(id: string): Promise<void> {
    await this.client.sendJson('DELETE', `/keys/${encodeURIComponent(id)}`, z.null(), `Key ${id}`);
  }

  setPackageAccess(name: string, changes: { visibility?: Visibility; owners?: string[] }): Promise<PackageAccess> {
    return this.client.sendJson('PATCH', `/packages/${name.split('/').map(encodeURIComponent).join('/')}`, packageAccessSchema, name, { body: changes });
  }

  async audit(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const query = new URLSearchParams(Object.entries(filter).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)]])));
    return (await this.client.sendJson('GET', `/audit?${query.toString()}`, z.object({ events: z.array(auditEventSchema) }), 'Audit log')).events;
  }
}
