import { z } from 'zod';
import { DepotError } from '../../../shared/errors';
import type { SigningKeyView } from '../../../shared/domain/signing';
import type { SecretStore } from '../secrets/secret-store';
import { formatKeyId, generateSigningKeyPair, publicKeyOfSeed, type SigningKeyPair } from './ed25519-keys';
import { encodePublicKey } from './minisign-format';
import type { TrustStore } from './trust-store';

const secretPrefix = 'signing-key.';

const storedKeySchema = z.object({
  label: z.string(),
  keyId: z.string(),
  seed: z.string(),
  createdAt: z.string(),
  retiredAt: z.string().nullable(),
});
type StoredKey = z.infer<typeof storedKeySchema>;

/**
 * This install's own signing keys. Each lives whole in the secret store (sealed by the OS keychain on the
 * desktop); only the public half ever leaves it. A generated key is trusted here at once.
 */
export class SigningKeyring {
  constructor(
    private readonly secrets: SecretStore,
    private readonly trust: TrustStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  list(): SigningKeyView[] {
    return this.secrets
      .names()
      .filter((name) => name.startsWith(secretPrefix))
      .map((name) => this.view(this.stored(name.slice(secretPrefix.length))))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async generate(label: string): Promise<SigningKeyView> {
    const cleanLabel = label.trim();
    if (cleanLabel === '' || cleanLabel.length > 100) throw new DepotError('VALIDATION_FAILED', 'A key label is 1 to 100 characters.', { reason: 'bad-label' });
    const pair = generateSigningKeyPair();
    const keyId = formatKeyId(pair.keyId);
    const stored: StoredKey = { label: cleanLabel, keyId: pair.keyId.toString('hex'), seed: pair.seed.toString('base64'), createdAt: this.now().toISOString(), retiredAt: null };
    await this.secrets.set(`${secretPrefix}${keyId}`, JSON.stringify(stored));
    this.trust.trust(encodePublicKey(pair), cleanLabel);
    return this.view(stored);
  }

  /** The key pair for signing; a retired key signs nothing more. */
  pair(keyId: string): SigningKeyPair {
    const stored = this.stored(keyId);
    if (stored.retiredAt !== null) throw new DepotError('CONFLICT', `Key ${keyId} is retired.`, { reason: 'key-retired' });
    return toPair(stored);
  }

  exportPublic(keyId: string): string {
    return encodePublicKey(toPair(this.stored(keyId)));
  }

  /** Retires a key: it signs nothing more and no longer vouches here. */
  async retire(keyId: string): Promise<SigningKeyView> {
    const stored = this.stored(keyId);
    const retired = { ...stored, retiredAt: stored.retiredAt ?? this.now().toISOString() };
    await this.secrets.set(`${secretPrefix}${keyId}`, JSON.stringify(retired));
    if (this.trust.find(keyId)) this.trust.retire(keyId);
    return this.view(retired);
  }

  private stored(keyId: string): StoredKey {
    const text = this.secrets.get(`${secretPrefix}${keyId}`);
    if (text === undefined) throw new DepotError('NOT_FOUND', `No signing key ${keyId} in this install.`);
    return storedKeySchema.parse(JSON.parse(text));
  }

  private view(stored: StoredKey): SigningKeyView {
    const pair = toPair(stored);
    return { keyId: formatKeyId(pair.keyId), label: stored.label, publicKey: encodePublicKey(pair), createdAt: stored.createdAt, retiredAt: stored.retiredAt };
  }
}

function toPair(stored: StoredKey): SigningKeyPair {
  const seed = Buffer.from(stored.seed, 'base64');
  return { keyId: Buffer.from(stored.keyId, 'hex'), seed, publicKey: publicKeyOfSeed(seed) };
}
