import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { DepotError } from '../../../shared/errors';
import { bech32Decode, bech32Encode } from './bech32';

// DER prefixes of PKCS#8 / SPKI for raw 32-byte X25519 keys (RFC 8410).
const pkcs8Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');
const spkiPrefix = Buffer.from('302a300506032b656e032100', 'hex');

const recipientPrefix = 'age';
const identityPrefix = 'age-secret-key-';

export function x25519PublicOf(secret: Buffer): Buffer {
  const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, secret]), format: 'der', type: 'pkcs8' });
  return Buffer.from(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(spkiPrefix.length));
}

/** X25519(secret, public); refuses the all-zero result of a low-order point (as age does). */
export function x25519(secret: Buffer, publicKey: Buffer): Buffer {
  const shared = diffieHellman({
    privateKey: createPrivateKey({ key: Buffer.concat([pkcs8Prefix, secret]), format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: Buffer.concat([spkiPrefix, publicKey]), format: 'der', type: 'spki' }),
  });
  if (shared.every((byte) => byte === 0)) throw new DepotError('VALIDATION_FAILED', 'The X25519 key is a low-order point.', { reason: 'bad-recipient' });
  return shared;
}

export function generateX25519Secret(): Buffer {
  const { privateKey } = generateKeyPairSync('x25519');
  return Buffer.from(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(pkcs8Prefix.length));
}

/** An age identity: `AGE-SECRET-KEY-1…` and its `age1…` recipient. */
export interface AgeIdentity {
  secret: Buffer;
  recipient: string;
}

export function encodeAgeRecipient(publicKey: Buffer): string {
  return bech32Encode(recipientPrefix, publicKey);
}

export function encodeAgeIdentity(secret: Buffer): string {
  return bech32Encode(identityPrefix, secret).toUpperCase();
}

export function parseAgeRecipient(text: string): Buffer {
  const decoded = bech32Decode(text.trim());
  if (decoded?.prefix !== recipientPrefix || decoded.data.length !== 32 || text.trim() !== text.trim().toLowerCase()) {
    throw new DepotError('VALIDATION_FAILED', `"${text.slice(0, 80)}" is not an age X25519 recipient (age1…).`, { reason: 'bad-recipient' });
  }
  return decoded.data;
}

/** Reads an age identity file: `AGE-SECRET-KEY-1…` lines, `#` comments and blank lines. */
export function parseAgeIdentities(text: string): AgeIdentity[] {
  const identities: AgeIdentity[] = [];
  for (const raw of text.replace(/\r\n/g, '\n').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const decoded = bech32Decode(line);
    if (decoded?.prefix !== identityPrefix || decoded.data.length !== 32) {
      throw new DepotError('VALIDATION_FAILED', 'The identity file holds a line that is not an age X25519 identity (AGE-SECRET-KEY-1…).', { reason: 'bad-identity' });
    }
    identities.push({ secret: decoded.data, recipient: encodeAgeRecipient(x25519PublicOf(decoded.data)) });
  }
  if (identities.length === 0) throw new DepotError('VALIDATION_FAILED', 'The identity file holds no age identity.', { reason: 'bad-identity' });
  return identities;
}

export function generateAgeIdentity(): AgeIdentity {
  const secret = generateX25519Secret();
  return { secret, recipient: encodeAgeRecipient(x25519PublicOf(secret)) };
}

/** An identity file as age-keygen writes it. */
export function formatAgeIdentityFile(identity: AgeIdentity, created = new Date()): string {
  return `# created: ${created.toISOString().replace(/\.\d{3}Z$/, 'Z')}\n# public key: ${identity.recipient}\n${encodeAgeIdentity(identity.secret)}\n`;
}
