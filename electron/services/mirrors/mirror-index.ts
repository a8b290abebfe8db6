import { createHash } from 'node:crypto';
import { DepotError, type ErrorCode } from '../../../shared/errors';
import { maxMirrorIndexBytes, mirrorIndexSchema, type MirrorIndex } from '../../../shared/domain/mirrors';
import type { SigningKeyPair, SigningPublicKey } from '../signing/ed25519-keys';
import { checkSignature, signDigests, type SigningDigests } from '../signing/file-signature';
import { boundedHttpGet } from '../probes/bounded-http-get';
import { mirrorBlobPath, mirrorFileUrl, mirrorIndexFile, mirrorIndexSignatureFile } from './mirror-layout';

/** Why a mirror's index was refused; each is the error's `reason` as `mirror-index-<failure>`. */
export type MirrorIndexFailure = 'unreachable' | 'too-large' | 'unsigned' | 'unknown-key' | 'bad-signature' | 'malformed' | 'unsafe-path' | 'no-trusted-keys';

const codeOf: Record<MirrorIndexFailure, ErrorCode> = {
  unreachable: 'UNAVAILABLE',
  'too-large': 'PAYLOAD_TOO_LARGE',
  unsigned: 'FORBIDDEN',
  'unknown-key': 'FORBIDDEN',
  'bad-signature': 'FORBIDDEN',
  'no-trusted-keys': 'FORBIDDEN',
  malformed: 'VALIDATION_FAILED',
  'unsafe-path': 'VALIDATION_FAILED',
};

/** A mirror's `index.json` could not be trusted or read; nothing from it was used. */
export class MirrorIndexError extends DepotError {
  constructor(
    readonly failure: MirrorIndexFailure,
    message: string,
    cause?: unknown,
  ) {
    super(codeOf[failure], message, { reason: `mirror-index-${failure}`, ...(cause === undefined ? {} : { cause }) });
    this.name = 'MirrorIndexError';
  }
}

export interface FetchMirrorIndexOptions {
  signal?: AbortSignal;
  /** Default and upper bound: 64 MiB. */
  maxBytes?: number;
  /** Default 10 s for the index and its signature together. */
  timeoutMs?: number;
}

export interface FetchedMirrorIndex {
  index: MirrorIndex;
  /** Key id that signed it (16 hex digits). */
  keyId: string;
  latencyMs: number;
  tlsExpiresAt: string | null;
}

/**
 * Fetches `index.json` and `index.json.minisig` from a mirror and returns the index only once its
 * signature verifies with one of `trustedKeys`; the digests in it may then be trusted. Throws
 * MirrorIndexError (unreachable, too-large, unsigned, unknown-key, bad-signature, malformed, unsafe-path).
 */
export async function fetchVerifiedMirrorIndex(url: string, trustedKeys: readonly SigningPublicKey[], options: FetchMirrorIndexOptions = {}): Promise<MirrorIndex> {
  return (await fetchVerifiedMirrorIndexDetailed(url, trustedKeys, options)).index;
}

/** `fetchVerifiedMirrorIndex` plus what a health check records (latency, certificate expiry, key id). */
export async function fetchVerifiedMirrorIndexDetailed(url: string, trustedKeys: readonly SigningPublicKey[], options: FetchMirrorIndexOptions = {}): Promise<FetchedMirrorIndex> {
  if (trustedKeys.length === 0) throw new MirrorIndexError('no-trusted-keys', 'No trusted key is configured to verify mirror indexes (mirrors.trusted_keys or the trust store).');
  const maxBytes = Math.min(options.maxBytes ?? maxMirrorIndexBytes, maxMirrorIndexBytes);
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const get = async (file: string, limit: number): Promise<Awaited<ReturnType<typeof boundedHttpGet>>> => {
    const target = mirrorFileUrl(url, file);
    try {
      return await boundedHttpGet(target, { timeoutMs: Math.max(1, deadline - Date.now()), maxBytes: limit, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (error instanceof DepotError && error.reason === 'too-large') throw new MirrorIndexError('too-large', `${target.href} is larger than the ${limit} bytes an index may have.`, error);
      if (error instanceof DepotError && error.code === 'CANCELLED') throw error;
      throw new MirrorIndexError('unreachable', `${target.href}: ${(error as Error).message}`, error);
    }
  };
  const [indexResponse, signatureResponse] = await Promise.all([get(mirrorIndexFile, maxBytes), get(mirrorIndexSignatureFile, 64 * 1024)]);
  if (indexResponse.status !== 200) throw new MirrorIndexError('unreachable', `${mirrorFileUrl(url, mirrorIndexFile).href} answered ${indexResponse.status}.`);
  if (signatureResponse.status === 404) throw new MirrorIndexError('unsigned', `${url} has no ${mirrorIndexSignatureFile}: an unsigned index is never trusted.`);
  if (signatureResponse.status !== 200) throw new MirrorIndexError('unreachable', `${mirrorFileUrl(url, mirrorIndexSignatureFile).href} answered ${signatureResponse.status}.`);
  const { index, keyId } = verifyMirrorIndex(indexResponse.body, signatureResponse.body.toString('utf8'), trustedKeys);
  return { index, keyId, latencyMs: indexResponse.latencyMs, tlsExpiresAt: indexResponse.tlsExpiresAt };
}

/** Verifies index bytes against their minisign signature, then parses and checks every entry's path. */
export function verifyMirrorIndex(bytes: Buffer, signatureText: string | null, trustedKeys: readonly SigningPublicKey[]): { index: MirrorIndex; keyId: string } {
  if (bytes.length > maxMirrorIndexBytes) throw new MirrorIndexError('too-large', `The index is ${bytes.length} bytes, more than the ${maxMirrorIndexBytes} allowed.`);
  if (signatureText === null || signatureText.trim() === '') throw new MirrorIndexError('unsigned', 'The index has no signature: an unsigned index is never trusted.');
  const digests = indexDigests(bytes);
  const check = checkSignature(signatureText, trustedKeys, digests, { sha256: digests.sha256, strict: false });
  if (!check.valid) {
    const failure: MirrorIndexFailure = check.reason === 'unknown-key' ? 'unknown-key' : check.reason === 'malformed' ? 'unsigned' : 'bad-signature';
    throw new MirrorIndexError(failure, `The index signature was refused: ${check.message}`);
  }
  return { index: parseMirrorIndex(bytes), keyId: check.keyId };
}

/** Parses index bytes (already verified) and refuses entries whose path is not the layout's path for them. */
export function parseMirrorIndex(bytes: Buffer): MirrorIndex {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new MirrorIndexError('malformed', `The index is not JSON: ${(error as Error).message}`);
  }
  const parsed = mirrorIndexSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MirrorIndexError('malformed', `The index does not follow ${'torsh-depot-mirror/1'}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}.`);
  }
  for (const entry of parsed.data.versions) {
    let expected: string;
    try {
      expected = mirrorBlobPath(entry.name, entry.version);
    } catch (error) {
      throw new MirrorIndexError('unsafe-path', `The index names ${entry.name}@${entry.version}, which cannot be a package path: ${(error as Error).message}`);
    }
    if (entry.path !== expected) throw new MirrorIndexError('unsafe-path', `The index puts ${entry.name}@${entry.version} at "${entry.path.slice(0, 200)}", not at ${expected}.`);
  }
  return parsed.data;
}

export function indexDigests(bytes: Buffer): SigningDigests {
  return { blake2b512: createHash('blake2b512').update(bytes).digest(), sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/** Serializes an index the way sync writes it (stable key order, one trailing newline) and signs it. */
export function encodeSignedMirrorIndex(index: MirrorIndex, pair: SigningKeyPair, now = new Date()): { bytes: Buffer; signature: string } {
  const bytes = Buffer.from(`${JSON.stringify(mirrorIndexSchema.parse(index), null, 1)}\n`);
  return { bytes, signature: signDigests(pair, indexDigests(bytes), null, mirrorIndexFile, now) };
}
