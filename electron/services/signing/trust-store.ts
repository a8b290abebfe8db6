import type { Database } from 'better-sqlite3';
import { DepotError } from '../../../shared/errors';
import { formatKeyId, parseKeyId, type SigningPublicKey } from './ed25519-keys';
import { decodePublicKey, encodePublicKey } from './minisign-format';

export interface TrustedKey {
  keyId: string;
  label: string;
  /** The minisign public key file text. */
  publicKey: string;
  addedAt: string;
  retiredAt: string | null;
}

interface TrustedKeyRow {
  key_id: string;
  public_key: string;
  label: string;
  added_at: string;
  retired_at: string | null;
}

function toTrustedKey(row: TrustedKeyRow): TrustedKey {
  return { keyId: row.key_id, label: row.label, publicKey: row.public_key, addedAt: row.added_at, retiredAt: row.retired_at };
}

/** Publisher keys this install trusts, with labels. Retired keys stay listed but no longer vouch for anything. */
export class TrustStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  list(): TrustedKey[] {
    return (this.db.prepare('SELECT * FROM trusted_keys ORDER BY added_at, key_id').all() as TrustedKeyRow[]).map(toTrustedKey);
  }

  /** Adds (or re-labels and un-retires) a key from minisign public key text. */
  trust(publicKeyText: string, label: string): TrustedKey {
    const key = decodePublicKey(publicKeyText);
    const cleanLabel = label.trim().slice(0, 100);
    if (cleanLabel === '') throw new DepotError('VALIDATION_FAILED', 'A trusted key needs a label.', { reason: 'empty-label' });
    const keyId = formatKeyId(key.keyId);
    const existing = this.find(keyId);
    if (existing && decodePublicKey(existing.publicKey).publicKey.equals(key.publicKey) === false) {
      throw new DepotError('CONFLICT', `Another public key with id ${keyId} is already trusted.`, { reason: 'key-id-collision' });
    }
    this.db
      .prepare(`INSERT INTO trusted_keys (key_id, public_key, label, added_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (key_id) DO UPDATE SET label = excluded.label, retired_at = NULL`)
      .run(keyId, encodePublicKey(key), cleanLabel, this.now().toISOString());
    return this.require(keyId);
  }

  retire(keyId: string): TrustedKey {
    this.require(keyId);
    this.db.prepare('UPDATE trusted_keys SET retired_at = COALESCE(retired_at, ?) WHERE key_id = ?').run(this.now().toISOString(), keyId);
    return this.require(keyId);
  }

  remove(keyId: string): void {
    if (this.db.prepare('DELETE FROM trusted_keys WHERE key_id = ?').run(keyId).changes === 0) throw notTrusted(keyId);
  }

  find(keyId: string): TrustedKey | null {
    const row = this.db.prepare('SELECT * FROM trusted_keys WHERE key_id = ?').get(keyId) as TrustedKeyRow | undefined;
    return row ? toTrustedKey(row) : null;
  }

  /** The keys that currently vouch: trusted and not retired. */
  activeKeys(): SigningPublicKey[] {
    return this.list()
      .filter((key) => key.retiredAt === null)
      .map((key) => decodePublicKey(key.publicKey));
  }

  private require(keyId: string): TrustedKey {
    if (parseKeyId(keyId) === null) throw new DepotError('VALIDATION_FAILED', `"${keyId.slice(0, 40)}" is not a key id (16 hex digits).`, { reason: 'bad-key-id' });
    const key = this.find(keyId);
    if (!key) throw notTrusted(keyId);
    return key;
  }
}

function notTrusted(keyId: string): DepotError {
  return new DepotError('NOT_FOUND', `Key ${keyId} is not in the trust store.`);
}
