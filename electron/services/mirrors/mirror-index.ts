import { createHash } from 'node:crypto';
import { maxMirrorIndexBytes, mirrorIndexSchema, type MirrorIndex } from '../../../shared/domain/mirrors';
import { DepotError } from '../../../shared/errors';
import type { SigningPublicKey } from '../signing/ed25519-keys';
import { checkSignature } from '../signing/file-signature';

export interface FetchIndexOptions {
  signal?: AbortSignal;
  /** An index longer than this is refused while it streams (default 64 MiB). */
  maxBytes?: number;
  fetchImpl?: typeof fetch;
  /** Longest wait for either file (default 15 s). */
  timeoutMs?: number;
}

/** `<mirror>/index.json`, `<mirror>/index.json.minisig` (the mirror URL may carry a path prefix). */
export function mirrorFileUrl(mirrorUrl: string, relative: string): string {
  const base = mirrorUrl.endsWith('/') ? mirrorUrl : `${mirrorUrl}/`;
  return new URL(relative.split('/').map(encodeURIComponent).join('/'), base).toString();
}

/**
 * A mirror's `index.json`, trusted only once `index.json.minisig` verifies with one of `trustedKeys`
 * (pinned keys: a mirror's own `registry.pub` is never taken on first sight). Throws typed errors:
 * UNAVAILABLE (unreachable, not found), PAYLOAD_TOO_LARGE, VALIDATION_FAILED (malformed, unsigned,
 * signed by an unknown key, bad signature).
 */
export async function fetchVerifiedMirrorIndex(url: string, trustedKeys: readonly SigningPublicKey[], options: FetchIndexOptions = {}): Promise<MirrorIndex> {
  const maxBytes = options.maxBytes ?? maxMirrorIndexBytes;
  const indexUrl = url.endsWith('index.json') ? url : mirrorFileUrl(url, 'index.json');
  if (trustedKeys.length === 0) {
    throw new DepotError('VALIDATION_FAILED', `No trusted key to verify ${indexUrl} with: add the registry's public key to trusted_keys (or --trusted-key).`, { reason: 'no-trusted-key' });
  }
  const [body, signature] = await Promise.all([fetchBounded(indexUrl, maxBytes, options), fetchBounded(`${indexUrl}.minisig`, 64 * 1024, options).catch((error: unknown) => error as Error)]);
  if (signature instanceof Error) {
    if (signature instanceof DepotError && signature.reason === 'not-found') throw new DepotError('VALIDATION_FAILED', `${indexUrl} is not signed (no index.json.minisig): its digests cannot be trusted.`, { reason: 'index-unsigned' });
    throw signature;
  }
  const blake2b512 = createHash('blake2b512').update(body).digest();
  const check = checkSignature(signature.toString('utf8'), trustedKeys, { blake2b512 });
  if (!check.valid) {
    const reason = check.reason === 'unknown-key' ? 'index-unknown-key' : 'index-bad-signature';
    throw new DepotError('VALIDATION_FAILED', `${indexUrl}: ${check.message}`, { reason });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw new DepotError('VALIDATION_FAILED', `${indexUrl} is not JSON.`, { reason: 'index-malformed' });
  }
  const parsed = mirrorIndexSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DepotError('VALIDATION_FAILED', `${indexUrl} is not a mirror index: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape'}.`, { reason: 'index-malformed' });
  }
  for (const entry of parsed.data.versions) {
    if (entry.path.split('/').some((part) => part === '..' || part === '.' || part === '') || entry.path.startsWith('/') || entry.path.includes('\\')) {
      throw new DepotError('VALIDATION_FAILED', `${indexUrl} names a blob outside the mirror: "${entry.path.slice(0, 200)}".`, { reason: 'index-path-traversal' });
    }
  }
  return parsed.data;
}

async function fetchBounded(url: string, maxBytes: number, options: FetchIndexOptions): Promise<Buffer> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await (options.fetchImpl ?? globalThis.fetch)(url, { signal, headers: { Accept: 'application/json, text/plain' } });
  } catch (error) {
    if (options.signal?.aborted) throw new DepotError('CANCELLED', 'The operation was cancelled.', { reason: 'aborted' });
    throw new DepotError('UNAVAILABLE', `Cannot reach ${url}: ${(error as Error).message}.`, { reason: 'network', cause: error });
  }
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw new DepotError('UNAVAILABLE', `${url} does not exist (HTTP ${response.status}).`, { reason: 'not-found' });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new DepotError('UNAVAILABLE', `${url} answered HTTP ${response.status}.`, { reason: `http-${response.status}` });
  }
  const announced = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(announced) && announced > maxBytes) {
    await response.body?.cancel();
    throw new DepotError('PAYLOAD_TOO_LARGE', `${url} is ${announced} bytes, more than the ${maxBytes} allowed.`, { reason: 'index-too-large' });
  }
  const parts: Buffer[] = [];
  let length = 0;
  const reader = response.body?.getReader();
  for (;;) {
    if (!reader) break;
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > maxBytes) {
      await reader.cancel();
      throw new DepotError('PAYLOAD_TOO_LARGE', `${url} is longer than the ${maxBytes} bytes allowed.`, { reason: 'index-too-large' });
    }
    parts.push(Buffer.from(value));
  }
  return Buffer.concat(parts);
}

/** Fetches every mirror's verified index at once; a failure is an answer for that mirror, not for all. */
export async function fetchMirrorIndexes(
  mirrors: ReadonlyArray<{ id: string; url: string }>,
  trustedKeys: readonly SigningPublicKey[],
  options: FetchIndexOptions = {},
): Promise<Map<string, MirrorIndex | DepotError>> {
  const answers = await Promise.all(
    mirrors.map(async (mirror): Promise<[string, MirrorIndex | DepotError]> => {
      try {
        return [mirror.id, await fetchVerifiedMirrorIndex(mirror.url, trustedKeys, options)];
      } catch (error) {
        if (options.signal?.aborted) throw error;
        return [mirror.id, error instanceof DepotError ? error : new DepotError('UNAVAILABLE', String(error))];
      }
    }),
  );
  return new Map(answers);
}
