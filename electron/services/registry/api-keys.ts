import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';

export interface ApiKeyPrincipal {
  keyId: string;
  label: string;
  role: string;
}

export type ApiKeyLookup = { status: 'valid'; principal: ApiKeyPrincipal } | { status: 'invalid' | 'expired' | 'revoked' };

/** Keys are random and long, so one SHA-256 is a sound at-rest hash; only the hash is kept. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): string {
  return `tdk_${randomBytes(32).toString('base64url')}`;
}

/** API keys stored hashed. Lookup is by hash, so no stored secret is ever compared byte by byte. */
export class ApiKeyStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** `TORSH_DEPOT_ADMIN_KEY`: creates an admin key with exactly this value, or keeps the existing one. */
  ensureKey(value: string, label: string, role: string): ApiKeyPrincipal {
    if (value.length < 16) throw new Error('An API key must be at least 16 characters long.');
    const hash = hashApiKey(value);
    const existing = this.db.prepare('SELECT id, label, role FROM api_keys WHERE key_hash = ?').get(hash) as { id: string; label: string; role: string } | undefined;
    if (existing) {
      this.db.prepare('UPDATE api_keys SET revoked_at = NULL, role = ? WHERE id = ?').run(role, existing.id);
      return { keyId: existing.id, label: existing.label, role };
    }
    const id = randomUUID();
    this.db.prepare('INSERT INTO api_keys (id, label, key_hash, role, created_at) VALUES (?, ?, ?, ?, ?)').run(id, label, hash, role, this.now().toISOString());
    return { keyId: id, label, role };
  }

  create(label: string, role: string, expiresAt: Date | null = null): { key: string; principal: ApiKeyPrincipal } {
    const key = generateApiKey();
    const id = randomUUID();
    this.db
      .prepare('INSERT INTO api_keys (id, label, key_hash, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, label, hashApiKey(key), role, this.now().toISOString(), expiresAt?.toISOString() ?? null);
    return { key, principal: { keyId: id, label, role } };
  }

  revoke(id: string): boolean {
    return this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.now().toISOString(), id).changes > 0;
  }

  lookup(key: string): ApiKeyLookup {
    const row = this.db.prepare('SELECT id, label, role, expires_at, revoked_at FROM api_keys WHERE key_hash = ?').get(hashApiKey(key)) as
      | { id: string; label: string; role: string; expires_at: string | null; revoked_at: string | null }
      | undefined;
    if (!row) return { status: 'invalid' };
    if (row.revoked_at !== null) return { status: 'revoked' };
    if (row.expires_at !== null && Date.parse(row.expires_at) <= this.now().getTime()) return { status: 'expired' };
    this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(this.now().toISOString(), row.id);
    return { status: 'valid', principal: { keyId: row.id, label: row.label, role: row.role } };
  }
}
