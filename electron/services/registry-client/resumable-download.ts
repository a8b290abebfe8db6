import { constants as fsConstants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DepotError } from '../../../shared/errors';
import { fsyncDirectory } from '../fs/atomic-write';
import { AttemptTimer } from './attempt-timer';
import { InlineSink, WorkerSink, type DownloadSink } from './download-sink';
import { rawHttpGet, RawHttpUnsupported } from './raw-http-get';
import { errorFromResponse, isRetryableStatus } from './registry-errors';
import { cancelledError, throwIfCancelled } from '../retry/retry-backoff';
import { digestFromEtag, requireDigest } from './sha256-digest';
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
  sink: DownloadSink;
  total: number | null;
  etag: string | null;
  /** Cleared when the plain-socket reader met something only fetch handles (a redirect, chunked framing). */
  raw: boolean;
}

/** One response, from fetch or from the plain-socket reader, seen the same way. */
interface DownloadResponse {
  status: number;
  headers: Headers;
  chunks: AsyncIterable<Uint8Array>;
  /** True when every chunk's buffer belongs to this download (it may be transferred to the sink's worker). */
  owned: boolean;
  cancel(): void;
  /** The (small) body as a fetch Response, to read an error message from. */
  toResponse(): Promise<Response>;
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
  const state: Progress = { handle, sink: new InlineSink(handle), total: null, etag: null, raw: context.rawHttp };
  try {
    // Bytes left by an earlier run are reusable only if we can name the exact bytes they belong to.
    const existing = (await handle.stat()).size;
    state.etag = expected ? `"${expected}"` : null;
    if (existing > 0 && state.etag) {
      await state.sink.reset(existing, signal);
      throwIfCancelled(signal);
    } else if (existing > 0) {
      await handle.truncate(0);
    }
    const resumedFrom = state.sink.written;

    let failures = 0;
    for (;;) {
      const before = state.sink.written;
      const outcome = await downloadAttempt(context, url, what, state, failures, options);
      if (outcome === 'complete') break;
      if (outcome === 'restart') {
        await restartFromZero(state);
        continue;
      }
      // A retry that moved the transfer forward starts a fresh budget: a flaky link still finishes.
      failures = state.sink.written > before ? 1 : failures + 1;
    }

    const { sink } = state;
    const actual = await sink.digest();
    const served = digestFromEtag(state.etag);
    const promised = served !== null && served !== actual ? served : expected !== null && expected !== actual ? expected : null;
    if (promised !== null) {
      await sink.close();
      await close();
      await fsp.rm(partialPath, { force: true });
      throw new DepotError('DIGEST_MISMATCH', `${what}: the downloaded bytes hash to ${actual}, expected ${promised}; the file was deleted.`, { reason: 'download-digest' });
    }
    const size = sink.written;
    await sink.close();
    await handle.sync();
    await close();
    await fsp.rename(partialPath, destPath);
    await fsyncDirectory(path.dirname(destPath));
    return { path: destPath, digest: actual, size, resumedFrom };
  } catch (error) {
    // Keep what can be resumed; an empty partial, wrong bytes, or bytes of a version that does not exist are clutter.
    await state.sink.close().catch(() => undefined);
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

/** Once a large download's size is known and nothing is hashed yet, hashing and writing move to a worker thread. */
async function sinkFor(context: TransferContext, state: Progress): Promise<DownloadSink> {
  const fresh = state.sink instanceof InlineSink && state.sink.received === 0;
  if (fresh && state.total !== null && state.total >= context.workerSinkFromBytes) {
    await state.sink.close();
    state.sink = new WorkerSink(state.handle);
  }
  return state.sink;
}

async function restartFromZero(state: Progress): Promise<void> {
  await state.handle.truncate(0);
  await state.sink.reset(0);
}

/** Asks through the plain-socket reader when it can serve this URL, else (or when it declines) through fetch. */
async function request(context: TransferContext, url: string, headers: Record<string, string>, state: Progress, signal: AbortSignal): Promise<DownloadResponse> {
  if (state.raw && url.startsWith('http:')) {
    try {
      const raw = await rawHttpGet(new URL(url), headers, signal);
      if (raw.status < 300 || raw.status >= 400) {
        return {
          status: raw.status,
          headers: raw.headers,
          chunks: raw.body,
          owned: true,
          cancel: raw.cancel,
          toResponse: async () => {
            const parts: Uint8Array[] = [];
            let length = 0;
            for await (const chunk of raw.body) {
              parts.push(chunk);
              length += chunk.length;
              if (length > 1024 * 1024) break;
            }
            raw.cancel();
            return new Response(Buffer.concat(parts), { status: raw.status, headers: raw.headers });
          },
        };
      }
      // Redirects (a presigned URL, a CDN) are fetch's to follow.
      raw.cancel();
      state.raw = false;
    } catch (error) {
      if (!(error instanceof RawHttpUnsupported)) throw error;
      state.raw = false;
    }
  }
  const response = await context.fetchImpl(url, { headers, signal });
  return {
    status: response.status,
    headers: response.headers,
    chunks: readerChunks(response.body),
    owned: false,
    cancel: () => void response.body?.cancel().catch(() => undefined),
    toResponse: () => Promise.resolve(response),
  };
}

export async function* readerChunks(body: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

async function downloadAttempt(context: TransferContext, url: string, what: string, state: Progress, failures: number, options: DownloadOptions): Promise<AttemptOutcome> {
  const { signal, onProgress } = options;
  let { sink } = state;
  throwIfCancelled(signal);
  const timer = new AttemptTimer(signal, context.timeoutMs);
  try {
    // Byte ranges must count raw bytes: ask for no content coding.
    const extra: Record<string, string> = { 'Accept-Encoding': 'identity' };
    if (sink.written > 0 && state.etag) {
      extra.Range = `bytes=${sink.written}-`;
      extra['If-Range'] = state.etag;
    }
    let response: DownloadResponse;
    try {
      response = await request(context, url, context.headers(extra), state, timer.signal);
    } catch (error) {
      await retryAfterNetworkError(context, failures, error, timer, signal);
      return 'retry';
    }

    if (response.status === 416 && sink.written > 0) {
      response.cancel();
      // Our partial is at least as long as the file: complete if the length matches, else start over.
      const total = Number(/\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ?? NaN);
      if (total === sink.written) return 'complete';
      return 'restart';
    }
    if (isRetryableStatus(response.status) && failures < context.retries) {
      response.cancel();
      await context.backoff(failures, signal);
      return 'retry';
    }
    if (response.status !== 200 && response.status !== 206) throw await errorFromResponse(await response.toResponse(), what);

    if (response.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== sink.written) {
        // A range we did not ask for: take nothing from it.
        response.cancel();
        return 'restart';
      }
      state.total = Number(range[3]);
    } else {
      if (sink.written > 0) await restartFromZero(state); // 200 to a Range: the file changed or ranges are unsupported.
      const length = response.headers.get('content-length');
      state.total = length === null ? null : Number(length);
    }
    state.etag = response.headers.get('etag') ?? state.etag;
    const served = digestFromEtag(state.etag);
    const expected = options.expectedDigest === undefined ? null : requireDigest(options.expectedDigest, 'Expected digest');
    if (served !== null && expected !== null && served !== expected) {
      // The registry names other bytes than the caller expects: no point transferring them.
      response.cancel();
      throw new DepotError('DIGEST_MISMATCH', `${what}: the registry serves ${served}, expected ${expected}.`, { reason: 'download-digest' });
    }
    sink = await sinkFor(context, state);
    onProgress?.(sink.written, state.total);

    const start = sink.written;
    try {
      for await (const chunk of response.chunks) {
        timer.touch();
        if (state.total !== null && sink.received + chunk.length > state.total) {
          throw new DepotError('UNAVAILABLE', `${what}: the registry sent more bytes than it announced.`, { reason: 'overlong-body' });
        }
        await sink.write(chunk, response.owned);
        onProgress?.(sink.received, state.total);
      }
      await sink.drain();
    } catch (error) {
      response.cancel();
      // What was hashed must be what is on disk before any resume: finish the writes first.
      const drained = await sink.drain().then(
        () => true,
        () => false,
      );
      if (!drained) await restartFromZero(state);
      if (error instanceof DepotError) throw error;
      await retryAfterNetworkError(context, sink.written > start ? 0 : failures, error, timer, signal);
      return 'retry';
    }
    if (state.total !== null && sink.written < state.total) {
      // The body ended early without an error (a proxy closed it cleanly): resume like after a cut.
      await retryAfterNetworkError(context, sink.written > start ? 0 : failures, new Error(`the body ended after ${sink.written - start} of ${state.total - start} bytes`), timer, signal);
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
