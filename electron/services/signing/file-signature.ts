import path from 'node:path';
import { DepotError } from '../../../shared/errors';
import { digestFile, digestStream } from '../fs/file-digests';
import { readPackageIdentity } from '../registry-client/package-identity';
import { ed25519Sign, ed25519Verify, formatKeyId, type SigningKeyPair, type SigningPublicKey } from './ed25519-keys';
import { decodeSignature, encodeSignature, type MinisignSignature } from './minisign-format';
import { buildTrustedComment, parseTrustedComment, type SignatureClaims } from './trusted-comment';

/** The two digests a signature needs, from one read of the file: BLAKE2b-512 (signed) and SHA-256 (claimed). */
export interface SigningDigests {
  blake2b512: Buffer;
  sha256: string;
  size: number;
}

/** Both digests of a file, each on a thread of its own when the file is big (see `digestFile`). */
export async function digestFileForSigning(filePath: string, signal?: AbortSignal, onProgress?: (done: number) => void): Promise<SigningDigests> {
  const { digests, size } = await digestFile(filePath, ['blake2b512', 'sha256'], { signal, onProgress });
  return { blake2b512: digests.blake2b512, sha256: digests.sha256.toString('hex'), size };
}

export async function digestStreamForSigning(stream: NodeJS.ReadableStream, signal?: AbortSignal, onProgress?: (done: number) => void): Promise<SigningDigests> {
  const { digests, size } = await digestStream(stream, ['blake2b512', 'sha256'], { signal, onProgress });
  return { blake2b512: digests.blake2b512, sha256: digests.sha256.toString('hex'), size };
}

/** A package's name and version from its manifest, or null when the file is not a package. */
export async function packageIdentityOf(filePath: string): Promise<{ name: string; version: string } | null> {
  return readPackageIdentity(filePath).catch(() => null);
}

/** Signs already-computed digests: an `ED` signature plus a global signature over it and the trusted comment. */
export function signDigests(pair: SigningKeyPair, digests: SigningDigests, identity: { name: string; version: string } | null, file: string, now = new Date()): string {
  const signature = ed25519Sign(pair.seed, digests.blake2b512);
  const trustedComment = buildTrustedComment({ timestamp: Math.floor(now.getTime() / 1000), name: identity?.name ?? null, version: identity?.version ?? null, sha256: digests.sha256, file });
  const globalSignature = ed25519Sign(pair.seed, Buffer.concat([signature, Buffer.from(trustedComment)]));
  return encodeSignature({ untrustedComment: `signature from torsh-depot secret key ${formatKeyId(pair.keyId)}`, keyId: pair.keyId, signature, trustedComment, globalSignature });
}

/** Signs a file (a package's manifest gives the name and version the trusted comment claims). */
export async function signFile(filePath: string, pair: SigningKeyPair, options: { signal?: AbortSignal; now?: Date } = {}): Promise<string> {
  const identity = await packageIdentityOf(filePath);
  const digests = await digestFileForSigning(filePath, options.signal);
  return signDigests(pair, digests, identity, path.basename(filePath), options.now);
}

export type SignatureCheck =
  | { valid: true; keyId: string; claims: SignatureClaims; trustedComment: string }
  | { valid: false; keyId: string | null; reason: SignatureFailure; message: string };

export type SignatureFailure = 'malformed' | 'unknown-key' | 'legacy-algorithm' | 'bad-signature' | 'bad-trusted-comment' | 'claims-mismatch';

/** What the signed file must be: with `strict`, the trusted comment must name all three; otherwise only what it names is checked. */
export interface ExpectedIdentity {
  name?: string | null;
  version?: string | null;
  sha256?: string | null;
  strict: boolean;
}

/**
 * Verifies a minisign signature against the file's BLAKE2b-512, the key it names, and the identity it claims.
 * Never throws for a bad signature: the answer says why.
 */
export function checkSignature(signatureText: string, keys: readonly SigningPublicKey[], digests: Pick<SigningDigests, 'blake2b512'>, expected?: ExpectedIdentity): SignatureCheck {
  let parsed: MinisignSignature;
  try {
    parsed = decodeSignature(signatureText);
  } catch (error) {
    return { valid: false, keyId: null, reason: 'malformed', message: (error as Error).message };
  }
  const keyId = formatKeyId(parsed.keyId);
  const key = keys.find((candidate) => candidate.keyId.equals(parsed.keyId));
  if (!key) return { valid: false, keyId, reason: 'unknown-key', message: `The signature was made by key ${keyId}, which is not the given public key${keys.length > 1 ? ' (nor a trusted one)' : ''}.` };
  if (!parsed.prehashed) return { valid: false, keyId, reason: 'legacy-algorithm', message: 'Legacy (non-pre-hashed) minisign signatures are not supported; sign with `minisign -S -H`.' };
  if (!ed25519Verify(key.publicKey, digests.blake2b512, parsed.signature)) {
    return { valid: false, keyId, reason: 'bad-signature', message: `The signature by key ${keyId} does not match the file.` };
  }
  if (!ed25519Verify(key.publicKey, Buffer.concat([parsed.signature, Buffer.from(parsed.trustedComment)]), parsed.globalSignature)) {
    return { valid: false, keyId, reason: 'bad-trusted-comment', message: `The trusted comment was altered after key ${keyId} signed it.` };
  }
  const claims = parseTrustedComment(parsed.trustedComment);
  const mismatch = expected ? claimsMismatch(claims, expected) : null;
  if (mismatch) return { valid: false, keyId, reason: 'claims-mismatch', message: mismatch };
  return { valid: true, keyId, claims, trustedComment: parsed.trustedComment };
}

function claimsMismatch(claims: SignatureClaims, expected: ExpectedIdentity): string | null {
  const fields: Array<['name' | 'version' | 'sha256', string | null | undefined]> = [
    ['name', expected.name],
    ['version', expected.version],
    ['sha256', expected.sha256?.replace(/^sha256:/, '').toLowerCase()],
  ];
  for (const [field, want] of fields) {
    if (want === undefined || want === null) continue;
    const claimed = claims[field];
    if (claimed === null) {
      if (expected.strict) return `The signature's trusted comment does not state the package ${field}, so it cannot be bound to this package.`;
      continue;
    }
    if (claimed !== want) return `The signature is for ${field} ${claimed}, not ${want}: it belongs to another package or version.`;
  }
  return null;
}

/** Parses a signature and returns its key id (hex) without verifying anything. */
export function signatureKeyId(signatureText: string): string {
  return formatKeyId(decodeSignature(signatureText).keyId);
}

export function assertSignatureText(text: string): MinisignSignature {
  try {
    return decodeSignature(text);
  } catch (error) {
    if (error instanceof DepotError) throw error;
    throw new DepotError('VALIDATION_FAILED', 'Not a minisign signature.', { reason: 'bad-minisign-signature' });
  }
}
