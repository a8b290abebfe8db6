import { DepotError } from '../../../shared/errors';
import type { ApiKeyPrincipal, ApiKeyStore } from './api-keys';

/** `stats`: read the monitoring endpoint (`GET /metrics`); access control maps it to ViewStats. */
export type RegistryAction = 'read' | 'download' | 'publish' | 'yank' | 'stats';

/** Who is asking: a key's holder, the desktop app's own user, or nobody. */
export type RegistryPrincipal = { kind: 'key'; key: ApiKeyPrincipal } | { kind: 'local-user' } | { kind: 'anonymous' };

/**
 * Every registry permission decision, in one place, deny by default. Until access control lands:
 * anyone may read and download, admin keys (and the desktop's local user) may publish and yank.
 */
export class RegistryAuthorizer {
  constructor(private readonly keys: ApiKeyStore) {}

  /** Turns an `Authorization` header into a principal; a presented but bad key is a 401, not anonymous. */
  authenticate(authorization: string | undefined): RegistryPrincipal {
    if (authorization === undefined || authorization.trim() === '') return { kind: 'anonymous' };
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match?.[1]) throw new DepotError('UNAUTHORIZED', 'Authorization must be "Bearer <api key>".');
    const lookup = this.keys.lookup(match[1]);
    if (lookup.status !== 'valid') throw new DepotError('UNAUTHORIZED', `The API key is ${lookup.status}.`, { reason: `key-${lookup.status}` });
    return { kind: 'key', key: lookup.principal };
  }

  authorize(principal: RegistryPrincipal, action: RegistryAction, _packageName?: string): void {
    if (action === 'read' || action === 'download') return;
    if (principal.kind === 'local-user') return;
    if (principal.kind === 'anonymous') throw new DepotError('UNAUTHORIZED', `An API key is required to ${action}.`);
    if (principal.key.role !== 'admin') throw new DepotError('FORBIDDEN', `This key may not ${action} packages.`);
  }

  describe(principal: RegistryPrincipal): string | null {
    if (principal.kind === 'key') return `key:${principal.key.label}`;
    return principal.kind === 'local-user' ? 'local-user' : null;
  }
}
