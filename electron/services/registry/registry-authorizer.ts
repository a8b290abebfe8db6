import type { Permission } from '../../../shared/domain/access';
import type { AccessControl, AccessPrincipal } from '../access/access-control';

/** The registry's original action names; each is one access-control permission. Permissions may be named directly too. */
export type RegistryAction = 'read' | 'download' | 'publish' | 'yank' | Permission;

export const permissionForAction: Record<'read' | 'download' | 'publish' | 'yank', Permission> = {
  read: 'ViewMetadata',
  download: 'DownloadPackage',
  publish: 'UploadPackage',
  yank: 'YankPackage',
};

/** Who is asking: an API key's user, the app's local user, or nobody. */
export type RegistryPrincipal = AccessPrincipal;

/**
 * The registry routes' entry point into access control: authenticate a request, then
 * `authorize(principal, action, package)`. Every decision is AccessControl.check's.
 */
export class RegistryAuthorizer {
  constructor(
    readonly access: AccessControl,
    /** Told of every decision (monitoring counts allowed and denied requests per permission). */
    private readonly onDecision: (permission: Permission, subject: string, outcome: 'allowed' | 'denied') => void = () => undefined,
  ) {}

  /** A presented but bad key is a 401 (never anonymous); `source` is the remote address (rate limit, audit). */
  authenticate(authorization: string | undefined, source: string | null = null): RegistryPrincipal {
    return this.access.authenticate(authorization, source);
  }

  /** Throws 401 (no/bad key), 403 (known key, no permission) or 404 (a package the principal may not see). */
  authorize(principal: RegistryPrincipal, action: RegistryAction, packageName?: string): void {
    const permission = action in permissionForAction ? permissionForAction[action as keyof typeof permissionForAction] : (action as Permission);
    try {
      this.access.enforce(principal, permission, packageName);
    } catch (error) {
      this.onDecision(permission, packageName ?? '*', 'denied');
      throw error;
    }
    this.onDecision(permission, packageName ?? '*', 'allowed');
  }

  describe(principal: RegistryPrincipal): string | null {
    return this.access.describe(principal);
  }
}
