import type { Database, Statement } from 'better-sqlite3';
import type { ApiKeyInfo, AuditEvent, AuditFilter, Grant, Permission, User, Visibility } from '../../../shared/domain/access';

interface UserRow {
  id: string;
  name: string;
  email: string;
  active: number;
}

interface KeyRow {
  id: string;
  user_id: string | null;
  label: string;
  prefix: string;
  key_hash: string;
  permissions_json: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

interface AuditRow {
  id: number;
  at: string;
  actor_id: string | null;
  actor: string | null;
  action: string;
  target: string | null;
  source: string | null;
  details_json: string;
}

export interface NewAuditEvent {
  at: string;
  actorId: string | null;
  actor: string | null;
  action: string;
  target: string | null;
  source: string | null;
  details: Record<string, unknown>;
}

export type StoredKey = ApiKeyInfo & { keyHash: string };

/** All SQL of access control (migration 8): users, custom roles, grants, keys, owners, visibility, audit. */
export class AccessRepository {
  private readonly userByIdStmt: Statement;
  private readonly grantsOfStmt: Statement;
  private readonly keyByHashStmt: Statement;
  private readonly touchKeyStmt: Statement;
  private readonly packageStmt: Statement;
  private readonly isOwnerStmt: Statement;
  private readonly customRoleStmt: Statement;
  private readonly insertAuditStmt: Statement;

  constructor(private readonly db: Database) {
    this.userByIdStmt = db.prepare('SELECT id, name, email, active FROM users WHERE id = ?');
    this.grantsOfStmt = db.prepare('SELECT id, user_id, role, scope, created_at FROM role_grants WHERE user_id = ? ORDER BY created_at, id');
    this.keyByHashStmt = db.prepare(`SELECT id, user_id, label, prefix, key_hash, permissions_json, created_at, expires_at, revoked_at, last_used_at
      FROM api_keys WHERE key_hash = ?`);
    this.touchKeyStmt = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?');
    this.packageStmt = db.prepare('SELECT id, visibility FROM packages WHERE name = ?');
    this.isOwnerStmt = db.prepare('SELECT 1 FROM package_owners WHERE package_id = ? AND user_id = ?');
    this.customRoleStmt = db.prepare('SELECT name, permissions_json FROM custom_roles WHERE name = ?');
    this.insertAuditStmt = db.prepare(`INSERT INTO audit_events (at, actor_id, actor, action, target, source, details_json)
      VALUES (@at, @actorId, @actor, @action, @target, @source, @details)`);
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  // Users

  user(id: string): User | undefined {
    const row = this.userByIdStmt.get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  userByName(name: string): User | undefined {
    const row = this.db.prepare('SELECT id, name, email, active FROM users WHERE name = ?').get(name) as UserRow | undefined;
    return row && toUser(row);
  }

  users(): User[] {
    return (this.db.prepare('SELECT id, name, email, active FROM users ORDER BY name').all() as UserRow[]).map(toUser);
  }

  insertUser(user: User, createdAt: string): void {
    this.db.prepare('INSERT INTO users (id, name, email, active, created_at) VALUES (?, ?, ?, ?, ?)').run(user.id, user.name, user.email, user.active ? 1 : 0, createdAt);
  }

  updateUser(user: User): void {
    this.db.prepare('UPDATE users SET name = ?, email = ?, active = ? WHERE id = ?').run(user.name, user.email, user.active ? 1 : 0, user.id);
  }

  // Roles and grants

  customRole(name: string): Permission[] | undefined {
    const row = this.customRoleStmt.get(name) as { permissions_json: string } | undefined;
    return row && (JSON.parse(row.permissions_json) as Permission[]);
  }

  customRoles(): Array<{ name: string; permissions: Permission[] }> {
    return (this.db.prepare('SELECT name, permissions_json FROM custom_roles ORDER BY name').all() as Array<{ name: string; permissions_json: string }>).map((row) => ({
      name: row.name,
      permissions: JSON.parse(row.permissions_json) as Permission[],
    }));
  }

  upsertCustomRole(name: string, permissions: Permission[], at: string): void {
    this.db
      .prepare('INSERT INTO custom_roles (name, permissions_json, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET permissions_json = excluded.permissions_json')
      .run(name, JSON.stringify(permissions), at);
  }

  deleteCustomRole(name: string): boolean {
    return this.db.prepare('DELETE FROM custom_roles WHERE name = ?').run(name).changes > 0;
  }

  grantsOf(userId: string): Grant[] {
    return this.grantsOfStmt.all(userId) as Grant[];
  }

  allGrants(): Grant[] {
    return this.db.prepare('SELECT id, user_id, role, scope, created_at FROM role_grants ORDER BY role, user_id, scope').all() as Grant[];
  }

  grantCount(role: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM role_grants WHERE role = ?').get(role) as { n: number }).n;
  }

  findGrant(userId: string, role: string, scope: string): Grant | undefined {
    return this.db.prepare('SELECT id, user_id, role, scope, created_at FROM role_grants WHERE user_id = ? AND role = ? AND scope = ?').get(userId, role, scope) as Grant | undefined;
  }

  insertGrant(grant: Grant): void {
    this.db.prepare('INSERT INTO role_grants (id, user_id, role, scope, created_at) VALUES (?, ?, ?, ?, ?)').run(grant.id, grant.user_id, grant.role, grant.scope, grant.created_at);
  }

  deleteGrant(userId: string, grantId: string): Grant | undefined {
    const grant = this.db.prepare('SELECT id, user_id, role, scope, created_at FROM role_grants WHERE id = ? AND user_id = ?').get(grantId, userId) as Grant | undefined;
    if (grant) this.db.prepare('DELETE FROM role_grants WHERE id = ?').run(grantId);
    return grant;
  }

  // API keys

  keyByHash(hash: string): StoredKey | undefined {
    const row = this.keyByHashStmt.get(hash) as KeyRow | undefined;
    return row && toStoredKey(row);
  }

  key(id: string): ApiKeyInfo | undefined {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined;
    return row && toKeyInfo(row);
  }

  keys(userId?: string): ApiKeyInfo[] {
    const rows = (
      userId === undefined ? this.db.prepare('SELECT * FROM api_keys ORDER BY created_at DESC').all() : this.db.prepare('SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_at DESC').all(userId)
    ) as KeyRow[];
    return rows.map(toKeyInfo);
  }

  insertKey(key: Omit<ApiKeyInfo, 'revoked_at' | 'last_used_at'> & { keyHash: string }): void {
    this.db
      .prepare(`INSERT INTO api_keys (id, label, key_hash, role, created_at, expires_at, user_id, permissions_json, prefix)
        VALUES (?, ?, ?, '', ?, ?, ?, ?, ?)`)
      .run(key.id, key.label, key.keyHash, key.created_at, key.expires_at, key.user_id, key.permissions === null ? null : JSON.stringify(key.permissions), key.prefix);
  }

  reactivateKey(id: string, userId: string): void {
    this.db.prepare('UPDATE api_keys SET revoked_at = NULL, expires_at = NULL, user_id = ?, from_admin_env = 1 WHERE id = ?').run(userId, id);
  }

  /** Marks a key as made from `TORSH_DEPOT_ADMIN_KEY` (revoked when the variable changes). */
  markAdminEnvKey(id: string): void {
    this.db.prepare('UPDATE api_keys SET from_admin_env = 1 WHERE id = ?').run(id);
  }

  /** Unrevoked keys made from an earlier value of `TORSH_DEPOT_ADMIN_KEY`. */
  staleAdminEnvKeys(currentId: string): Array<{ id: string; user_id: string | null }> {
    return this.db.prepare('SELECT id, user_id FROM api_keys WHERE from_admin_env = 1 AND revoked_at IS NULL AND id <> ?').all(currentId) as Array<{ id: string; user_id: string | null }>;
  }

  revokeKey(id: string, at: string): boolean {
    return this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes > 0;
  }

  touchKey(id: string, at: string): void {
    this.touchKeyStmt.run(at, id);
  }

  // Packages

  packageInfo(name: string): { id: number; visibility: Visibility } | undefined {
    return this.packageStmt.get(name) as { id: number; visibility: Visibility } | undefined;
  }

  isOwner(packageId: number, userId: string): boolean {
    return this.isOwnerStmt.get(packageId, userId) !== undefined;
  }

  ownersOf(packageId: number): string[] {
    return (this.db.prepare('SELECT user_id FROM package_owners WHERE package_id = ? ORDER BY user_id').all(packageId) as Array<{ user_id: string }>).map((row) => row.user_id);
  }

  packagesWithAccess(): Array<{ name: string; visibility: Visibility; owners: string[] }> {
    const rows = this.db
      .prepare(`SELECT p.name, p.visibility, (SELECT json_group_array(user_id) FROM package_owners o WHERE o.package_id = p.id) AS owners_json
        FROM packages p ORDER BY p.name`)
      .all() as Array<{ name: string; visibility: Visibility; owners_json: string }>;
    return rows.map((row) => ({ name: row.name, visibility: row.visibility, owners: (JSON.parse(row.owners_json) as string[]).sort() }));
  }

  privatePackages(): Array<{ id: number; name: string }> {
    return this.db.prepare(`SELECT id, name FROM packages WHERE visibility = 'private'`).all() as Array<{ id: number; name: string }>;
  }

  setVisibility(packageId: number, visibility: Visibility): void {
    this.db.prepare('UPDATE packages SET visibility = ? WHERE id = ?').run(visibility, packageId);
  }

  setOwners(packageId: number, owners: string[]): void {
    this.db.prepare('DELETE FROM package_owners WHERE package_id = ?').run(packageId);
    const insert = this.db.prepare('INSERT INTO package_owners (package_id, user_id) VALUES (?, ?)');
    for (const owner of owners) insert.run(packageId, owner);
  }

  addOwner(packageId: number, userId: string): void {
    this.db.prepare('INSERT OR IGNORE INTO package_owners (package_id, user_id) VALUES (?, ?)').run(packageId, userId);
  }

  // Settings

  setting(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM access_settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setSetting(key: string, value: string): void {
    this.db.prepare('INSERT INTO access_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // Audit (append only: triggers refuse UPDATE and DELETE)

  appendAudit(event: NewAuditEvent): void {
    this.insertAuditStmt.run({ ...event, details: JSON.stringify(event.details) });
  }

  audit(filter: AuditFilter): AuditEvent[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: filter.limit ?? 1_000 };
    if (filter.since) {
      where.push('at >= @since');
      params.since = filter.since;
    }
    if (filter.actor) {
      where.push('(actor_id = @actor OR actor = @actor)');
      params.actor = filter.actor;
    }
    if (filter.action) {
      // `package.` matches every package action; an exact name matches itself.
      where.push(filter.action.endsWith('.') ? 'action LIKE @action' : 'action = @action');
      params.action = filter.action.endsWith('.') ? `${filter.action.replace(/[%_]/g, '')}%` : filter.action;
    }
    const sql = `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as AuditRow[]).map((row) => ({
      id: row.id,
      at: row.at,
      actor_id: row.actor_id,
      actor: row.actor,
      action: row.action,
      target: row.target,
      source: row.source,
      details: JSON.parse(row.details_json) as Record<string, unknown>,
    }));
  }
}

function toUser(row: UserRow): User {
  return { id: row.id, name: row.name, email: row.email, active: row.active === 1 };
}

function toKeyInfo(row: KeyRow): ApiKeyInfo {
  return {
    id: row.id,
    user_id: row.user_id,
    label: row.label,
    prefix: row.prefix,
    permissions: row.permissions_json === null ? null : (JSON.parse(row.permissions_json) as Permission[]),
    created_at: row.created_at,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    last_used_at: row.last_used_at,
  };
}

function toStoredKey(row: KeyRow): StoredKey {
  return { ...toKeyInfo(row), keyHash: row.key_hash };
}
