import { createHash, type Hash } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DepotError } from '../../../shared/errors';
import { fsyncDirectory } from '../fs/atomic-write';
import { AttemptTimer } from './attempt-timer';
import { BatchedWriter } from './batched-writer';
import { errorFromResponse, isRetryableStatus } from './registry-errors';
import { cancelledError, throwIfCancelled } from './retry-backoff';
import { digestFromEtag, hashFileHead, requireDigest } from './sha256-digest';
import { retryAfterNetworkError, type TransferContext } from './transfer-context';

export interface DownloadOptions {
  signal?: AbortSignal;
  /** `total` is null only when the server sends no length. */
  onProgress?: (received: number, total: number | null) => void;
  /** `sha256:<hex>` (or bare hex) the bytes must hash to, e.g. from the version's metadata. */
  expectedDigest?: string;
}

export interface DownloadResult {
  path: string;
  digest: string;
  size: number;
  /** Bytes reused from an earlier, interrupted run (0 for a fresh download). */
  resumedFrom: number;
}

export const partialSuffix = '.partial';

interface Progress {
  handle: FileHandle;
  hash: Hash;
  have: number;
  total: number | null;
  etag: string | null;
}

type AttemptOutcome = 'complete' | 'retry' | 'restart';

/**
 * Downloads into `<dest>.partial`, resuming with `Range` + `If-Range` after a cut or a 5xx, then
 * checks the SHA-256 of the whole file and renames it into place. A cancelled download keeps its
 * `.partial` (resumable when the digest is known up front); a digest mismatch deletes it.
 */
export async function downloadResumable(context: TransferContext, url: string, destPath: string, what: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const { signal } = options;
  throwIfCancelled(signal);
  const expected = options.expectedDigest === undefined ? null : requireDigest(options.expectedDigest, 'Expected digest');
  const partialPath = `${destPath}${partialSuffix}`;
  await fsp.mkdir(path.dirname(destPath), { recursive: true });
  const handle = await fsp.open(partialPath, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  try {
    // Bytes left by an earlier run are reusable only if we can name the exact bytes they belong to.
    const existing = (await handle.stat()).size;
    const etag = expected ? `"${expected}"` : null;
    const state: Progress = { handle, hash: createHash('sha256'), have: 0, total: null, etag };
    if (existing > 0 && etag) {
      state.hash = await hashFileHead(handle, existing, signal);
      throwIfCancelled(signal);
      state.have = existing;
    } else if (existing > 0) {
      await handle.truncate(0);
    }
    const resumedFrom = state.have;

    let failures = 0;
    for (;;) {
      const before = state.have;
      const outcome = await downloadAttempt(context, url, what, state, failures, options);
      if (outcome === 'complete') break;
      if (outcome === 'restart') {
        await restartFromZero(state);
        continue;
      }
      // A retry that moved the transfer forward starts a fresh budget: a flaky link still finishes.
      failures = state.have > before ? 1 : failures + 1;
    }

    const actual = `sha256:${state.hash.digest('hex')}`;
    const served = digestFromEtag(state.etag);
    const promised = served !== null && served !== actual ? served : expected !== null && expected !== actual ? expected : null;
    if (promised !== null) {
      await close();
      await fsp.rm(partialPath, { force: true });
      throw new DepotError('DIGEST_MISMATCH', `${what}: the downloaded bytes hash to ${actual}, expected ${promised}; the file was deleted.`, { reason: 'download-digest' });
    }
    await handle.sync();
    await close();
    await fsp.rename(partialPath, destPath);
    await fsyncDirectory(path.dirname(destPath));
    return { path: destPath, digest: actual, size: state.have, resumedFrom };
  } catch (error) {
    // Keep what can be resumed; an empty partial, wrong bytes, or bytes of a version that does not exist are clutter.
    const cancelled = error instanceof DepotError && error.code === 'CANCELLED';
    const useless = error instanceof DepotError && (error.code === 'NOT_FOUND' || error.code === 'DIGEST_MISMATCH');
    const size = closed ? 0 : (await handle.stat().catch(() => null))?.size ?? 0;
    if (useless || (!cancelled && size === 0)) {
      await close().catch(() => undefined);
      await fsp.rm(partialPath, { force: true });
    }
    throw error;
  } finally {
    await close().catch(() => undefined);
  }
}

async function restartFromZero(state: Progress): Promise<void> {
  await state.handle.truncate(0);
  state.hash = createHash('sha256');
  state.have = 0;
}

async function downloadAttempt(context: TransferContext, url: string, what: string, state: Progress, failures: number, options: DownloadOptions): Promise<AttemptOutcome> {
  const { signal, onProgress } = options;
  throwIfCancelled(signal);
  const timer = new AttemptTimer(signal, context.timeoutMs);
  try {
    // Byte ranges must count raw bytes: ask for no content coding.
    const extra: Record<string, string> = { 'Accept-Encoding': 'identity' };
    if (state.have > 0 && state.etag) {
      extra.Range = `bytes=${state.have}-`;
      extra['If-Range'] = state.etag;
    }
    let response: Response;
    try {
      response = await context.fetchImpl(url, { headers: context.headers(extra), signal: timer.signal });
    } catch (error) {
      await retryAfterNetworkError(context, failures, error, timer, signal);
      return 'retry';
    }

    if (response.status === 416 && state.have > 0) {
      await response.body?.cancel();
      // Our partial is at least as long as the file: complete if the length matches, else start over.
      const total = Number(/\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ?? NaN);
      if (total === state.have) return 'complete';
      return 'restart';
    }
    if (isRetryableStatus(response.status) && failures < context.retries) {
      await response.body?.cancel();
      await context.backoff(failures, signal);
      return 'retry';
    }
    if (response.status !== 200 && response.status !== 206) throw await errorFromResponse(response, what);

    if (response.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== state.have) {
        // A range we did not ask for: take nothing from it.
        await response.body?.cancel();
        return 'restart';
      }
      state.total = Number(range[3]);
    } else {
      if (state.have > 0) await restartFromZero(state); // 200 to a Range: the file changed or ranges are unsupported.
      const length = response.headers.get('content-length');
      state.total = length === null ? null : Number(length);
    }
    state.etag = response.headers.get('etag') ?? state.etag;
    const served = digestFromEtag(state.etag);
    const expected = options.expectedDigest === undefined ? null : requireDigest(options.expectedDigest, 'Expected digest');
    if (served !== null && expected !== null && served !== expected) {
      // The registry names other bytes than the caller expects: no point transferring them.
      await response.body?.cancel();
      throw new DepotError('DIGEST_MISMATCH', `${what}: the registry serves ${served}, expected ${expected}.`, { reason: 'download-digest' });
    }
    if (!response.body) throw new DepotError('UNAVAILABLE', `${what}: the registry sent no body.`);
    onProgress?.(state.have, state.total);

    const start = state.have;
    const reader = response.body.getReader();
    const writer = new BatchedWriter(state.handle, state.have);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        timer.touch();
        if (state.total !== null && writer.received + value.length > state.total) {
          throw new DepotError('UNAVAILABLE', `${what}: the registry sent more bytes than it announced.`, { reason: 'overlong-body' });
        }
        state.hash.update(value);
        await writer.push(value);
        onProgress?.(writer.received, state.total);
      }
      await writer.drain();
      state.have = writer.written;
    } catch (error) {
      // What was hashed must be what is on disk before any resume: finish the writes first.
      const drained = await writer.drain().then(
        () => true,
        () => false,
      );
      state.have = writer.written;
      if (!drained) await restartFromZero(state);
      if (error instanceof DepotError) throw error;
      reader.cancel().catch(() => undefined);
      await retryAfterNetworkError(context, state.have > start ? 0 : failures, error, timer, signal);
      return 'retry';
    }
    if (state.total !== null && state.have < state.total) {
      // The body ended early without an error (a proxy closed it cleanly): resume like after a cut.
      await retryAfterNetworkError(context, state.have > start ? 0 : failures, new Error(`the body ended after ${state.have - start} of ${state.total - start} bytes`), timer, signal);
      return 'retry';
    }
    return 'complete';
  } catch (error) {
    if (signal?.aborted && !(error instanceof DepotError && error.code !== 'CANCELLED')) throw cancelledError();
    throw error;
  } finally {
    timer.dispose();
  }
}
