import { DepotError } from '../../../shared/errors';
import { formatKeyId, type SigningPublicKey } from './ed25519-keys';
import { digestFile } from '../fs/file-digests';
import { checkSignature } from './file-signature';

import type { SignaturePolicy } from '../../../shared/domain/signing';

export { signaturePolicies, type SignaturePolicy } from '../../../shared/domain/signing';

export type SignatureStatus = 'trusted' | 'untrusted' | 'invalid' | 'unsigned';

export interface SignatureVerdict {
  status: SignatureStatus;
  /** The key that vouched (trusted) or failed (invalid). */
  keyId: string | null;
  message: string;
}

/** What the registry says about a version (its metadata). */
export interface SignedVersion {
  name: string;
  version: string;
  digest: string;
  signatures?: Array<{ key_id: string }>;
}

/**
 * Checks a downloaded package against the local trust store: among the version's signatures, one by a
 * trusted key must verify over the file's bytes and name this very name, version and digest.
 * The registry's own `trusted` flag is never relied on.
 */
export async function evaluateSignatures(
  version: SignedVersion,
  file: string,
  trustedKeys: readonly SigningPublicKey[],
  fetchSignature: (keyId: string) => Promise<string | null>,
  signal?: AbortSignal,
): Promise<SignatureVerdict> {
  const what = `${version.name}@${version.version}`;
  const listed = version.signatures ?? [];
  if (listed.length === 0) return { status: 'unsigned', keyId: null, message: `${what} is not signed` };
  const trustedIds = new Set(trustedKeys.map((key) => formatKeyId(key.keyId)));
  const candidates = listed.map((entry) => entry.key_id).filter((keyId) => trustedIds.has(keyId));
  if (candidates.length === 0) {
    return { status: 'untrusted', keyId: null, message: `${what} is signed only by keys that are not trusted here (${listed.map((entry) => entry.key_id).join(', ')})` };
  }
  // The download already checked the SHA-256; the signature needs only the BLAKE2b-512.
  const digests = { blake2b512: (await digestFile(file, ['blake2b512'], { signal })).digests.blake2b512 };
  let failure: SignatureVerdict | null = null;
  for (const keyId of candidates) {
    const text = await fetchSignature(keyId);
    if (text === null) continue;
    const check = checkSignature(text, trustedKeys, digests, { name: version.name, version: version.version, sha256: version.digest, strict: true });
    if (check.valid) return { status: 'trusted', keyId: check.keyId, message: `${what} is signed by trusted key ${check.keyId}` };
    failure ??= { status: 'invalid', keyId, message: `${what}: ${check.message}` };
  }
  return failure ?? { status: 'untrusted', keyId: null, message: `${what}: no signature by a trusted key could be fetched` };
}

/** Applies a policy to a verdict: `require` throws unless trusted, `warn` reports through `warn`. */
export function enforceSignaturePolicy(policy: SignaturePolicy, verdict: SignatureVerdict, warn: (message: string) => void): void {
  if (policy === 'off' || verdict.status === 'trusted') return;
  if (policy === 'warn') {
    warn(`${verdict.message} (signature policy: warn)`);
    return;
  }
  throw new DepotError('INVALID_PACKAGE', `${verdict.message}; the signature policy requires a valid signature from a trusted key, so the package was not kept.`, {
    reason: verdict.status === 'invalid' ? 'signature-invalid' : 'signature-required',
  });
}
