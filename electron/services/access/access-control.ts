import { randomBytes, randomUUID } from 'node:crypto';
import { DepotError } from '../../../shared/errors';
import {
  builtInRoles,
  packagePermissions,
  permissions as allPermissions,
  scopeMatches,
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
import type { AccessRepository } from './access-repository';
import { FailedAuthLimiter } from './failed-auth-limiter';
import { apiKeyPrefix, generateApiKey, hashApiKey, hashesEqual } from './api-key-secret';
import { packageNotFound } from './package-not-found';

/** A grant as a principal carries it: its scope and the role's permissions, resolved once per request. */
interface ResolvedGrant {
  scope: string;
  permissions: ReadonlySet<Permission>;
}

/** Who is asking: nobody, or a user (through an API key, or as the app's own local user). */
export type AccessPrincipal =
  | { kind: 'anonymous' }
  | { kind: 'user'; user: User; grants: readonly ResolvedGrant[]; keyId: string | null; keyPermissions: ReadonlySet<Permission> | null };

/** Who did it and from where, for the audit log. */
export interface AccessContext {
  principal: AccessPrincipal;
  /** Remote address for HTTP, `desktop` for the app's own UI, `startup` for the host's own setup. */
  source: string | null;
}

export type DenialReason = 'authentication-required' | 'forbidden' | 'not-found';
export type AccessDecision = { granted: true } | { granted: false; reason: DenialReason; message: string };

/** Search sees every package, or public ones plus internal ones (any user) plus these private ones. */
export type SearchVisibility = { all: true } | { all: false; internal: boolean; privateIds: number[] };

export interface AccessControlOptions {
  repository: AccessRepository;
  limiter?: FailedAuthLimiter;
  now?: () => Date;
}

export const localUserId = 'local';
const adminUserId = 'admin';
/** Permissions that only read: on a package the caller cannot see (or that does not exist) they find nothing. */
const readPermissions: ReadonlySet<Permission> = new Set(['ViewMetadata', 'DownloadPackage', 'ViewStats']);
const baselineRead: readonly Permission[] = ['ViewMetadata', 'DownloadPackage'];
/** `last_used_at` is written at most this often per key: a write per request would cost more than the check. */
const touchIntervalMs = 1_000;

const maxKnownKeys = 10_000;
const refusalMessages = { revoked: 'The API key is revoked.', 'user-inactive': "The API key's user is deactivated." } as const;

interface KnownKey {
  keyHash: string;
  keyId: string;
  /** null when refused. */
  principal: Extract<AccessPrincipal, { kind: 'user' }> | null;
  refusal: keyof typeof refusalMessages | null;
  expiresAt: number | null;
  lastUsedMs: number | null;
}

const httpStatusOf: Record<DenialReason, 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND'> = {
  'authentication-required': 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  'not-found': 'NOT_FOUND',
};

/**
 * Access control: users, roles, scoped grants, package ownership and visibility, API keys, audit.
 * `check` is the one place every permission decision is made; anything not granted is denied.
 */
export class AccessControl {
  private readonly repo: AccessRepository;
  private readonly limiter: FailedAuthLimiter;
  private readonly now: () => Date;
  /** Authenticated keys by hash; emptied by every access change. */
  private readonly principals = new Map<string, KnownKey>();

  constructor(options: AccessControlOptions) {
    this.repo = options.repository;
    this.limiter = options.limiter ?? new FailedAuthLimiter();
    this.now = options.now ?? (() => new Date());
  }

  // Authentication

  /**
   * Turns an `Authorization` header into a principal. No header is anonymous; a presented key that
   * is malformed, unknown, expired, revoked or whose user is inactive is a 401 (and counts against
   * the source address's failure budget).
   */
  authenticate(authorization: string | undefined, source: string | null): AccessPrincipal {
    if (authorization === undefined || authorization.trim() === '') return { kind: 'anonymous' };
    const address = source ?? 'unknown';
    // A valid key is checked before the failure budget: a flood of bad keys from a shared address never locks it out.
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match?.[1]) return this.failAuthentication(address, 'malformed', 'Authorization must be "Bearer <api key>".');
    const hash = hashApiKey(match[1]);
    const nowMs = this.now().getTime();
    const known = this.principals.get(hash) ?? this.loadPrincipal(hash);
    if (!known || !hashesEqual(known.keyHash, hash)) return this.failAuthentication(address, 'unknown', 'The API key is invalid.');
    if (known.refusal || !known.principal) return this.failAuthentication(address, known.refusal ?? 'user-inactive', refusalMessages[known.refusal ?? 'user-inactive']);
    if (known.expiresAt !== null && known.expiresAt <= nowMs) return this.failAuthentication(address, 'expired', 'The API key is expired.');
    if (known.lastUsedMs === null || nowMs - known.lastUsedMs >= touchIntervalMs) {
      this.repo.touchKey(known.keyId, new Date(nowMs).toISOString());
      known.lastUsedMs = nowMs;
    }
    return known.principal;
  }

  /**
   * Reads a key, its user and grants once; later requests with the same key reuse it until any
   * access change (every change goes through this service, and the data folder has one process).
   */
  private loadPrincipal(hash: string): KnownKey | undefined {
    const key = this.repo.keyByHash(hash);
    if (!key) return undefined;
    const user = key.user_id === null ? undefined : this.repo.user(key.user_id);
    const refusal: KnownKey['refusal'] = key.revoked_at !== null ? 'revoked' : user?.active ? null : 'user-inactive';
    const known: KnownKey = {
      keyHash: key.keyHash,
      keyId: key.id,
      principal: user && refusal === null ? { kind: 'user', user, grants: this.resolveGrants(user.id), keyId: key.id, keyPermissions: key.permissions === null ? null : new Set(key.permissions) } : null,
      refusal,
      expiresAt: key.expires_at === null ? null : Date.parse(key.expires_at),
      lastUsedMs: key.last_used_at === null ? null : Date.parse(key.last_used_at),
    };
    if (this.principals.size >= maxKnownKeys) this.principals.clear();
    this.principals.set(hash, known);
    return known;
  }

  private failAuthentication(address: string, reason: string, message: string): never {
    this.limiter.assertAllowed(address);
    if (this.limiter.recordFailure(address)) {
      this.record({ principal: { kind: 'anonymous' }, source: address }, 'auth.failed-burst', null, { last_reason: reason });
    }
    throw new DepotError('UNAUTHORIZED', message, { reason: `key-${reason}` });
  }

  /** The app's own user (desktop window, session-token UI): admin of its embedded registry. */
  localPrincipal(): AccessPrincipal {
    const user = this.repo.user(localUserId);
    if (!user) throw new DepotError('INTERNAL', 'The local user is missing.');
    return { kind: 'user', user, grants: this.resolveGrants(user.id), keyId: null, keyPermissions: null };
  }

  localContext(): AccessContext {
    return { principal: this.localPrincipal(), source: 'desktop' };
  }

  private resolveGrants(userId: string): ResolvedGrant[] {
    return this.repo.grantsOf(userId).map((grant) => ({ scope: grant.scope, permissions: new Set(this.rolePermissions(grant.role)) }));
  }

  private rolePermissions(role: string): readonly Permission[] {
    return builtInRoles[role] ?? this.repo.customRole(role) ?? [];
  }

  // Authorization

  /**
   * Every decision, in one place, deny by default. A package the principal may not see answers exactly
   * like a package that does not exist, for every permission: existence is never revealed.
   */
  check(principal: AccessPrincipal, permission: Permission, packageName?: string): AccessDecision {
    const found = packageName === undefined ? undefined : this.repo.packageInfo(packageName);
    const owner = found !== undefined && principal.kind === 'user' && this.repo.isOwner(found.id, principal.user.id);
    if (packageName !== undefined && (!found || !this.canSee(principal, found.visibility, packageName, owner))) {
      const held = this.held(principal, packageName, undefined, false);
      // Reading (or acting on) nothing finds nothing; only creating a new package (publishing) passes.
      if (readPermissions.has(permission) || (found && held.has(permission))) return deny('not-found', packageNotFound(packageName).message);
      if (held.has(permission)) return { granted: true };
      return this.denyLacking(principal, permission, packageName);
    }
    if (this.held(principal, packageName, found?.visibility, owner).has(permission)) return { granted: true };
    return this.denyLacking(principal, permission, packageName);
  }

  private denyLacking(principal: AccessPrincipal, permission: Permission, packageName: string | undefined): AccessDecision {
    if (principal.kind === 'anonymous') return deny('authentication-required', `An API key is required (${permission}).`);
    const where = packageName === undefined ? 'this registry' : packageName;
    return deny('forbidden', `${principal.user.name} lacks ${permission} on ${where}${principal.keyPermissions ? ' (or this key is narrowed)' : ''}.`);
  }

  /** `check`, throwing the matching 401/403/404 error when denied. */
  enforce(principal: AccessPrincipal, permission: Permission, packageName?: string): void {
    const decision = this.check(principal, permission, packageName);
    if (!decision.granted) throw new DepotError(httpStatusOf[decision.reason], decision.message, { reason: decision.reason });
  }

  private canSee(principal: AccessPrincipal, visibility: Visibility, name: string, owner: boolean): boolean {
    if (visibility === 'public') return true;
    if (principal.kind === 'anonymous') return false;
    if (visibility === 'internal' || owner) return true;
    // Private: owners, explicit (non-`*`) grants reaching the name, and security admins.
    return principal.grants.some((grant) => grant.scope !== '*' && scopeMatches(grant.scope, name)) || this.held(principal, undefined, undefined, false).has('ManageSecurity');
  }

  /** The permissions a principal holds on a package (or registry-wide when no name is given). */
  private held(principal: AccessPrincipal, packageName: string | undefined, visibility: Visibility | undefined, owner: boolean): Set<Permission> {
    const held = new Set<Permission>();
    // Whoever may see an existing package may read it (visibility was checked before).
    if (visibility !== undefined && (visibility === 'public' || principal.kind === 'user')) for (const permission of baselineRead) held.add(permission);
    if (principal.kind === 'anonymous') return held;
    for (const grant of principal.grants) {
      if (grant.scope === '*' || (packageName !== undefined && scopeMatches(grant.scope, packageName))) for (const permission of grant.permissions) held.add(permission);
    }
    if (owner) for (const permission of packagePermissions) held.add(permission);
    const narrowed = principal.keyPermissions;
    if (narrowed) for (const permission of [...held]) if (!narrowed.has(permission)) held.delete(permission);
    return held;
  }

  /** What search may list for this principal. */
  searchVisibility(principal: AccessPrincipal): SearchVisibility {
    if (principal.kind === 'anonymous') return { all: false, internal: false, privateIds: [] };
    if (this.held(principal, undefined, undefined, false).has('ManageSecurity')) return { all: true };
    const privateIds = this.repo
      .privatePackages()
      .filter((entry) => this.canSee(principal, 'private', entry.name, this.repo.isOwner(entry.id, principal.user.id)))
      .map((entry) => entry.id);
    return { all: false, internal: true, privateIds };
  }

  whoami(principal: AccessPrincipal): { user: User | null; permissions: Permission[]; grants: Array<{ role: string; scope: string }>; key: { id: string; permissions: Permission[] | null } | null } {
    if (principal.kind === 'anonymous') return { user: null, permissions: [], grants: [], key: null };
    const held = this.held(principal, undefined, undefined, false);
    return {
      user: principal.user,
      permissions: allPermissions.filter((permission) => held.has(permission)),
      grants: this.repo.grantsOf(principal.user.id).map((grant) => ({ role: grant.role, scope: grant.scope })),
      key: principal.keyId === null ? null : { id: principal.keyId, permissions: principal.keyPermissions ? allPermissions.filter((permission) => principal.keyPermissions?.has(permission)) : null },
    };
  }

  /** A short name for who published or acted (stored with versions and shown in logs). */
  describe(principal: AccessPrincipal): string | null {
    return principal.kind === 'user' ? principal.user.name : null;
  }

  // Setup

  /** The desktop's (and session UI's) local user exists and is an admin. */
  ensureLocalUser(): void {
    this.repo.transaction(() => {
      if (!this.repo.user(localUserId)) this.repo.insertUser({ id: localUserId, name: 'local', email: '', active: true }, this.now().toISOString());
      this.ensureGrant(localUserId, 'admin', '*');
    });
  }

  /** `TORSH_DEPOT_ADMIN_KEY`: this exact value becomes (or stays) the key of the `admin` user. */
  ensureAdminKey(value: string): void {
    if (value.length < 16) throw new Error('An API key must be at least 16 characters long.');
    const context: AccessContext = { principal: { kind: 'anonymous' }, source: 'startup' };
    this.principals.clear();
    this.repo.transaction(() => {
      const existing = this.repo.user(adminUserId);
      if (!existing) {
        this.repo.insertUser({ id: adminUserId, name: 'admin', email: '', active: true }, this.now().toISOString());
        this.record(context, 'user.create', `user:${adminUserId}`, { name: 'admin' });
      } else if (!existing.active) {
        this.repo.updateUser({ ...existing, active: true });
      }
      if (this.ensureGrant(adminUserId, 'admin', '*')) this.record(context, 'grant.create', `user:${adminUserId}`, { role: 'admin', scope: '*' });
      const hash = hashApiKey(value);
      const key = this.repo.keyByHash(hash);
      let currentId: string;
      if (key) {
        this.repo.reactivateKey(key.id, adminUserId);
        currentId = key.id;
      } else {
        currentId = randomUUID();
        this.repo.insertKey({ id: currentId, user_id: adminUserId, label: 'TORSH_DEPOT_ADMIN_KEY', prefix: apiKeyPrefix(value), permissions: null, created_at: this.now().toISOString(), expires_at: null, keyHash: hash });
        this.repo.markAdminEnvKey(currentId);
        this.record(context, 'key.create', `key:${currentId}`, { user_id: adminUserId, label: 'TORSH_DEPOT_ADMIN_KEY' });
      }
      // Rotating the variable retires what earlier values made: the old admin key stops working now.
      for (const stale of this.repo.staleAdminEnvKeys(currentId)) {
        if (this.repo.revokeKey(stale.id, this.now().toISOString())) this.record(context, 'key.revoke', `key:${stale.id}`, { user_id: stale.user_id, reason: 'admin-key-rotated' });
      }
    });
  }

  private ensureGrant(userId: string, role: string, scope: string): boolean {
    if (this.repo.findGrant(userId, role, scope)) return false;
    this.repo.insertGrant({ id: randomUUID(), user_id: userId, role, scope, created_at: this.now().toISOString() });
    return true;
  }

  // Users

  listUsers(context: AccessContext): User[] {
    this.enforce(context.principal, 'ManageSecurity');
    return this.repo.users();
  }

  createUser(context: AccessContext, input: { name: string; email: string }): User {
    this.enforce(context.principal, 'ManageSecurity');
    return this.repo.transaction(() => {
      if (this.repo.userByName(input.name)) throw new DepotError('CONFLICT', `A user named ${input.name} already exists.`);
      const user: User = { id: `u_${randomBytes(8).toString('hex')}`, name: input.name, email: input.email, active: true };
      this.repo.insertUser(user, this.now().toISOString());
      this.record(context, 'user.create', `user:${user.id}`, { name: user.name, email: user.email });
      return user;
    });
  }

  updateUser(context: AccessContext, id: string, changes: { active?: boolean; name?: string; email?: string }): User {
    this.enforce(context.principal, 'ManageSecurity');
    return this.repo.transaction(() => {
      const user = this.requireUser(id);
      if (id === localUserId && changes.active === false) throw new DepotError('VALIDATION_FAILED', 'The local user cannot be deactivated: it is how this app administers its own registry.');
      if (changes.name !== undefined && changes.name !== user.name && this.repo.userByName(changes.name)) throw new DepotError('CONFLICT', `A user named ${changes.name} already exists.`);
      const updated: User = { ...user, ...changes };
      this.repo.updateUser(updated);
      this.record(context, 'user.update', `user:${id}`, changes);
      return updated;
    });
  }

  private requireUser(id: string): User {
    const user = this.repo.user(id);
    if (!user) throw new DepotError('NOT_FOUND', `No user with id ${id}.`);
    return user;
  }

  // Roles and grants

  listRoles(context: AccessContext): Role[] {
    this.enforce(context.principal, 'ManageSecurity');
    const grants = this.repo.allGrants();
    const grantsOf = (role: string): Grant[] => grants.filter((grant) => grant.role === role);
    return [
      ...Object.entries(builtInRoles).map(([name, permissions]) => ({ name, builtin: true, permissions: [...permissions], grants: grantsOf(name) })),
      ...this.repo.customRoles().map((role) => ({ name: role.name, builtin: false, permissions: role.permissions, grants: grantsOf(role.name) })),
    ];
  }

  createRole(context: AccessContext, name: string, permissions: Permission[]): Role {
    this.enforce(context.principal, 'ManageSecurity');
    return this.repo.transaction(() => {
      if (builtInRoles[name] || this.repo.customRole(name)) throw new DepotError('CONFLICT', `A role named ${name} already exists.`);
      const unique = allPermissions.filter((permission) => permissions.includes(permission));
      this.repo.upsertCustomRole(name, unique, this.now().toISOString());
      this.record(context, 'role.create', `role:${name}`, { permissions: unique });
      return { name, builtin: false, permissions: unique, grants: [] };
    });
  }

  updateRole(context: AccessContext, name: string, permissions: Permission[]): Role {
    this.enforce(context.principal, 'ManageSecurity');
    return this.repo.transaction(() => {
      this.requireCustomRole(name);
      const unique = allPermissions.filter((permission) => permissions.includes(permission));
      this.repo.upsertCustomRole(name, unique, this.now().toISOString());
      this.record(context, 'role.update', `role:${name}`, { permissions: unique });
      return { name, builtin: false, permissions: unique, grants: this.repo.allGrants().filter((grant) => grant.role === name) };
    });
  }

  deleteRole(context: AccessContext, name: string): void {
    this.enforce(context.principal, 'ManageSecurity');
    this.repo.transaction(() => {
      this.requireCustomRole(name);
      const granted = this.repo.grantCount(name);
      if (granted > 0) throw new DepotError('CONFLICT', `The role ${name} is still granted ${granted} time(s); revoke those grants first.`, { reason: 'role-granted' });
      this.repo.deleteCustomRole(name);
      this.record(context, 'role.delete', `role:${name}`, {});
    });
  }

  private requireCustomRole(name: string): void {
    if (builtInRoles[name]) throw new DepotError('VALIDATION_FAILED', `${name} is a built-in role; built-in roles cannot be changed.`, { reason: 'built-in-role' });
    if (!this.repo.customRole(name)) throw new DepotError('NOT_FOUND', `No role named ${name}.`);
  }

  grantUserRole(context: AccessContext, userId: string, role: string, scope: string): Grant {
    this.enforce(context.principal, 'ManageSecurity');
    return this.repo.transaction(() => {
      this.requireUser(userId);
      if (!builtInRoles[role] && !this.repo.customRole(role)) throw new DepotError('VALIDATION_FAILED', `No role named ${role}.`, { reason: 'unknown-role' });
      if (this.repo.findGrant(userId, role, scope)) throw new DepotError('CONFLICT', `The user already holds ${role} on ${scope}.`);
      const grant: Grant = { id: randomUUID(), user_id: userId, role, scope, created_at: this.now().toISOString() };
      this.repo.insertGrant(grant);
      this.record(context, 'grant.create', `user:${userId}`, { grant_id: grant.id, role, scope });
      return grant;
    });
  }

  revokeGrant(context: AccessContext, userId: string, grantId: string): void {
    this.enforce(context.principal, 'ManageSecurity');
    this.repo.transaction(() => {
      const grant = this.repo.deleteGrant(userId, grantId);
      if (!grant) throw new DepotError('NOT_FOUND', `No grant ${grantId} for user ${userId}.`);
      this.record(context, 'grant.delete', `user:${userId}`, { grant_id: grantId, role: grant.role, scope: grant.scope });
    });
  }

  grantsOf(context: AccessContext, userId: string): Grant[] {
    this.enforce(context.principal, 'ManageSecurity');
    this.requireUser(userId);
    return this.repo.grantsOf(userId);
  }

  // API keys

  /** Creates a key for a user; the returned `key` is the only time the secret exists outside the caller. */
  createKey(context: AccessContext, input: { userId: string; label?: string; expiresAt?: string | null; permissions?: Permission[] | null }): ApiKeyInfo & { key: string } {
    this.enforce(context.principal, 'ManageSecurity');
    return this.repo.transaction(() => {
      const user = this.requireUser(input.userId);
      if (!user.active) throw new DepotError('VALIDATION_FAILED', `${user.name} is deactivated; activate the user first.`);
      let expiresAt: string | null = null;
      if (input.expiresAt !== undefined && input.expiresAt !== null) {
        const at = Date.parse(input.expiresAt);
        if (Number.isNaN(at)) throw new DepotError('VALIDATION_FAILED', 'expires_at must be an ISO 8601 date and time.');
        if (at <= this.now().getTime()) throw new DepotError('VALIDATION_FAILED', 'expires_at must be in the future.');
        expiresAt = new Date(at).toISOString();
      }
      const narrowed = input.permissions === undefined || input.permissions === null ? null : allPermissions.filter((permission) => input.permissions?.includes(permission));
      const key = generateApiKey();
      const info: ApiKeyInfo = {
        id: randomUUID(),
        user_id: user.id,
        label: input.label?.trim() || `key for ${user.name}`,
        prefix: apiKeyPrefix(key),
        permissions: narrowed,
        created_at: this.now().toISOString(),
        expires_at: expiresAt,
        revoked_at: null,
        last_used_at: null,
      };
      this.repo.insertKey({ ...info, keyHash: hashApiKey(key) });
      this.record(context, 'key.create', `key:${info.id}`, { user_id: user.id, label: info.label, expires_at: expiresAt, permissions: narrowed });
      return { ...info, key };
    });
  }

  listKeys(context: AccessContext, userId?: string): ApiKeyInfo[] {
    this.enforce(context.principal, 'ManageSecurity');
    return this.repo.keys(userId);
  }

  revokeKey(context: AccessContext, id: string): void {
    this.enforce(context.principal, 'ManageSecurity');
    this.repo.transaction(() => {
      const key = this.repo.key(id);
      if (!key) throw new DepotError('NOT_FOUND', `No API key with id ${id}.`);
      if (!this.repo.revokeKey(id, this.now().toISOString())) return;
      this.record(context, 'key.revoke', `key:${id}`, { user_id: key.user_id });
    });
  }

  // Packages

  /** Runs inside the publish transaction of a new package: default visibility, the publisher owns it. */
  initializePackage(name: string, ownerUserId: string | null): void {
    const found = this.repo.packageInfo(name);
    if (!found) return;
    this.repo.setVisibility(found.id, this.defaultVisibility());
    if (ownerUserId !== null && this.repo.user(ownerUserId)) this.repo.addOwner(found.id, ownerUserId);
  }

  packageAccess(principal: AccessPrincipal, name: string): PackageAccess {
    this.enforce(principal, 'ViewMetadata', name);
    const found = this.repo.packageInfo(name);
    if (!found) throw packageNotFound(name);
    return { name, visibility: found.visibility, owners: this.repo.ownersOf(found.id) };
  }

  listPackageAccess(context: AccessContext): PackageAccess[] {
    this.enforce(context.principal, 'ManageSecurity');
    return this.repo.packagesWithAccess();
  }

  /** Visibility: owners or ManageSecurity. Owners: also ManageOwners. One audit event per change. */
  setPackageAccess(context: AccessContext, name: string, changes: { visibility?: Visibility; owners?: string[] }): PackageAccess {
    const found = this.enforcePackageAdministration(context.principal, name, changes.visibility !== undefined);
    return this.repo.transaction(() => {
      this.refuseSelfOwnership(context.principal, found.id, name, changes.owners);
      if (changes.owners) for (const id of changes.owners) if (!this.repo.user(id)) throw new DepotError('VALIDATION_FAILED', `No user with id ${id}.`, { reason: 'unknown-owner' });
      if (changes.visibility !== undefined) this.repo.setVisibility(found.id, changes.visibility);
      if (changes.owners) this.repo.setOwners(found.id, [...new Set(changes.owners)]);
      const result: PackageAccess = { name, visibility: this.repo.packageInfo(name)?.visibility ?? found.visibility, owners: this.repo.ownersOf(found.id) };
      this.record(context, 'package.access', `package:${name}`, { ...(changes.visibility !== undefined ? { visibility: changes.visibility } : {}), ...(changes.owners ? { owners: result.owners } : {}) });
      return result;
    });
  }

  /**
   * ManageOwners lets a non-owner name others as owners, never itself: an owner may change visibility,
   * so adding oneself would turn ManageOwners into ManageSecurity on that package.
   */
  private refuseSelfOwnership(principal: AccessPrincipal, packageId: number, name: string, owners: string[] | undefined): void {
    if (!owners || principal.kind !== 'user' || !owners.includes(principal.user.id)) return;
    if (this.repo.isOwner(packageId, principal.user.id) || this.check(principal, 'ManageSecurity', name).granted) return;
    throw new DepotError('FORBIDDEN', `${principal.user.name} is not an owner of ${name}: only an owner or a holder of ManageSecurity may add ${principal.user.name} as one.`, { reason: 'self-ownership' });
  }

  /**
   * Who may change a package's access: its owners or ManageSecurity; owners alone may also be changed
   * with ManageOwners (but not to add oneself). Throws 401/403/404 like `enforce`.
   */
  enforcePackageAdministration(principal: AccessPrincipal, name: string, changesVisibility: boolean): { id: number; visibility: Visibility } {
    this.enforce(principal, 'ViewMetadata', name);
    const found = this.repo.packageInfo(name);
    if (!found) throw packageNotFound(name);
    const owner = principal.kind === 'user' && this.repo.isOwner(found.id, principal.user.id);
    const administers = this.check(principal, 'ManageSecurity', name).granted || (owner && this.check(principal, 'ManageOwners', name).granted);
    if (!administers) this.enforce(principal, changesVisibility ? 'ManageSecurity' : 'ManageOwners', name);
    return found;
  }

  defaultVisibility(): Visibility {
    const stored = this.repo.setting('default_visibility');
    return stored === 'public' || stored === 'private' || stored === 'internal' ? stored : 'internal';
  }

  setDefaultVisibility(context: AccessContext, visibility: Visibility): void {
    this.enforce(context.principal, 'ManageSecurity');
    if (this.defaultVisibility() === visibility) return;
    this.repo.transaction(() => {
      this.repo.setSetting('default_visibility', visibility);
      this.record(context, 'settings.default-visibility', null, { visibility });
    });
  }

  /** The host's own configuration (`serve --default-visibility`), applied before any request. */
  configureDefaultVisibility(visibility: Visibility): void {
    if (this.defaultVisibility() === visibility) return;
    this.repo.transaction(() => {
      this.repo.setSetting('default_visibility', visibility);
      this.record({ principal: { kind: 'anonymous' }, source: 'startup' }, 'settings.default-visibility', null, { visibility });
    });
  }

  // Audit

  /** Appends one event; there is no way to change or remove it (the table refuses UPDATE and DELETE). */
  record(context: AccessContext, action: string, target: string | null, details: Record<string, unknown> = {}): void {
    // Every change is recorded, so this is where authenticated keys are forgotten: revocation,
    // deactivation and grant changes apply to the very next request.
    this.principals.clear();
    const { principal } = context;
    this.repo.appendAudit({
      at: this.now().toISOString(),
      actorId: principal.kind === 'user' ? principal.user.id : null,
      actor: principal.kind === 'user' ? principal.user.name : null,
      action,
      target,
      source: context.source,
      details,
    });
  }

  audit(context: AccessContext, filter: AuditFilter): AuditEvent[] {
    this.enforce(context.principal, 'ManageSecurity');
    if (filter.since !== undefined && Number.isNaN(Date.parse(filter.since))) throw new DepotError('VALIDATION_FAILED', 'since must be an ISO 8601 date and time.');
    return this.repo.audit({ ...filter, ...(filter.since !== undefined ? { since: new Date(Date.parse(filter.since)).toISOString() } : {}) });
  }
}

function deny(reason: DenialReason, message: string): AccessDecision {
  return { granted: false, reason, message };
}

/** One audit event per line, oldest first reads naturally in a file; the API gives newest first. */
export function toJsonLines(events: AuditEvent[]): string {
  return events.map((event) => JSON.stringify(event)).join('\n') + (events.length ? '\n' : '');
}
