import { constants as fsConstants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DepotError } from '../../../../shared/errors';
import { fsyncDirectory } from '../../fs/atomic-write';
import { CircuitBreaker } from '../../retry/circuit-breaker';
import { backoffDelayMs, cancelledError, sleep, throwIfCancelled } from '../../retry/retry-backoff';
import { requireDigest } from '../../registry-client/sha256-digest';
import type { DownloadSource, MirrorDownloadEvent, MirrorDownloadResult, MultiSourceOptions } from './download-types';
import { OrderedHasher } from './ordered-hasher';
import { parseContentRange, requestRange, strongEtag } from './range-request';
import { SegmentPlan, type Fill, type Segment } from './segment-plan';
import { StallMonitor, type StallLimits } from './stall-monitor';

/** Why a source stopped serving one request: try again later, never again this download, or never trust again. */
class SourceFault extends Error {
  constructor(
    message: string,
    readonly kind: 'retry' | 'drop' | 'bad',
  ) {
    super(message);
  }
}

interface SourceState {
  source: DownloadSource;
  breaker: CircuitBreaker;
  /** Failures in a row without a byte of progress. */
  failures: number;
  totalFailures: number;
  requests: number;
  /** Bytes of the final file it delivered. */
  bytes: number;
  etag: string | null;
  /** Bytes per second, EWMA over its requests (null until one finished a second's worth). */
  rate: number | null;
  bad: boolean;
  active: boolean;
}

const defaultProgressMs = 250;
/** Flush dirty pages every so often while downloading, so the final fsync has little left to do. */
const syncEveryBytes = 128 * 1024 * 1024;

export function defaultSegmentBytes(size: number): number {
  return Math.min(16 * 1024 * 1024, Math.max(1024 * 1024, Math.ceil(size / 64)));
}

/**
 * Downloads one blob from several sources at once into `<dest>.partial` (sized up front, written with
 * positional writes), hashing it in order on a worker as the contiguous prefix grows, then checks
 * size and SHA-256, fsyncs and renames. On an error, a 5xx or a stall the unfinished range goes back
 * to the pool and resumes with `Range` (`If-Range` on the source's ETag) wherever it is claimed next;
 * a source that fails `max_retries` times in a row is dropped and the next standby takes its place.
 * A source that serves other bytes is found (by size, or by re-fetching its ranges elsewhere when the
 * digest does not match), marked bad, and its bytes replaced. Nothing unverified is renamed into place.
 */
export async function downloadFromSources(sources: readonly DownloadSource[], destPath: string, options: MultiSourceOptions): Promise<MirrorDownloadResult> {
  const { signal: userSignal, onEvent } = options;
  throwIfCancelled(userSignal);
  const expectedDigest = requireDigest(options.expected.sha256, 'Expected digest');
  const size = options.expected.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new DepotError('VALIDATION_FAILED', `Expected size ${size} is not a byte count.`);
  if (sources.length === 0) throw new DepotError('UNAVAILABLE', 'No mirror can serve this version, and there is no registry to fall back to.', { reason: 'no-sources' });

  const started = performance.now();
  const partialPath = `${destPath}.partial`;
  await fsp.mkdir(path.dirname(destPath), { recursive: true });
  const handle = await fsp.open(partialPath, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_TRUNC, 0o644);
  const run = new SourcesRun(sources, handle, size, options);
  let renamed = false;
  try {
    await handle.truncate(size);
    onEvent?.({ type: 'start', size, sources: sources.map((source) => source.id) });
    await run.fetchAll(userSignal);
    let digest = await run.digest();
    if (digest !== expectedDigest) digest = await run.repair(expectedDigest, digest, userSignal);
    await handle.sync();
    await handle.close();
    await fsp.rename(partialPath, destPath);
    renamed = true;
    await fsyncDirectory(path.dirname(destPath));
    const result = run.result(destPath, digest, performance.now() - started);
    onEvent?.({ type: 'done', result });
    return result;
  } catch (error) {
    if (userSignal?.aborted && !(error instanceof DepotError && error.code !== 'CANCELLED')) throw cancelledError();
    throw error;
  } finally {
    await run.close();
    await handle.close().catch(() => undefined);
    if (!renamed) await fsp.rm(partialPath, { force: true });
  }
}

class SourcesRun {
  private readonly states: SourceState[];
  private readonly plan: SegmentPlan;
  private readonly hasher: OrderedHasher;
  private readonly limits: StallLimits;
  private readonly stop = new AbortController();
  /** Ranges of the file each source wrote (merged when adjacent). */
  private readonly contributions = new Map<string, Array<[number, number]>>();
  private standby: SourceState[];
  private running = 0;
  private failovers = 0;
  private received = 0;
  private written = 0;
  private syncedAt = 0;
  private syncing: Promise<void> | null = null;
  private readonly errors: string[] = [];
  private readonly badMirrors: string[] = [];

  constructor(
    sources: readonly DownloadSource[],
    private readonly handle: FileHandle,
    private readonly size: number,
    private readonly options: MultiSourceOptions,
  ) {
    const { failover } = options;
    this.states = sources.map((source) => ({
      source,
      breaker: breakerFor(options, source.id),
      failures: 0,
      totalFailures: 0,
      requests: 0,
      bytes: 0,
      etag: null,
      rate: null,
      bad: false,
      active: false,
    }));
    // Sources whose circuit is open (they failed recently, in an earlier download) wait behind the others; the last resort stays last.
    const rank = (state: SourceState): number => (state.source.lastResort === true ? 2 : state.breaker.state === 'open' ? 1 : 0);
    this.standby = [...this.states].sort((a, b) => rank(a) - rank(b));
    const segmentBytes = options.segmentBytes ?? defaultSegmentBytes(size);
    this.plan = new SegmentPlan(size, segmentBytes, Math.max(64 * 1024, Math.floor(segmentBytes / 8)));
    this.hasher = new OrderedHasher(handle.fd);
    this.limits = { stallTimeoutMs: failover.stall_timeout, minRateBytesPerSec: failover.min_rate };
  }

  /** Runs sources until every segment is on disk; rejects when none is left that can serve. */
  async fetchAll(userSignal: AbortSignal | undefined): Promise<void> {
    if (this.size === 0) return;
    const signal = userSignal ? AbortSignal.any([userSignal, this.stop.signal]) : this.stop.signal;
    const progress = this.startProgress();
    try {
      await new Promise<void>((resolve, reject) => {
        const onExit = (): void => {
          this.running -= 1;
          if (userSignal?.aborted) reject(cancelledError());
          else if (this.plan.complete) resolve();
          // A source gave up: the next standby takes its place; the last resort only once nobody else is left.
          else if (!this.activateNext('replaces a source that gave up', signal, onExit, this.running === 0) && this.running === 0) {
            reject(new DepotError('UNAVAILABLE', `No mirror could serve the download: ${this.errors.slice(-5).join('; ') || 'every source failed'}.`, { reason: 'all-sources-failed' }));
          }
        };
        const parallel = Math.max(1, this.options.maxParallelSources ?? 3);
        for (let i = 0; i < parallel; i += 1) if (!this.activateNext(null, signal, onExit, i === 0)) break;
        userSignal?.addEventListener('abort', () => reject(cancelledError()), { once: true });
      });
      this.emitProgress();
    } finally {
      this.stop.abort();
      clearInterval(progress);
      // Let stopped requests finish their last write before anything else touches the file.
      await this.until(() => this.running === 0);
      await this.syncing;
    }
  }

  digest(): Promise<string> {
    return this.hasher.digest(this.size);
  }

  /**
   * The bytes hash to something else: some source lied. Re-fetch each contributor's ranges from the
   * others (the biggest contributor first), comparing with what is on disk; the contributor whose bytes
   * differed and whose replacement makes the digest match is marked bad.
   */
  async repair(expected: string, actual: string, signal: AbortSignal | undefined): Promise<string> {
    const suspects = [...this.contributions.entries()].sort((a, b) => total(b[1]) - total(a[1])).map(([id]) => id);
    for (const suspect of suspects) {
      const others = this.states.filter((state) => state.source.id !== suspect && !state.bad);
      const ranges = this.contributions.get(suspect) ?? [];
      if (others.length === 0 || ranges.length === 0) continue;
      this.options.onEvent?.({ type: 'repair', mirror: suspect, reason: `the file hashes to ${actual}, expected ${expected}: re-fetching what ${suspect} sent from other sources` });
      let differed = false;
      let turn = 0;
      for (const [start, end] of ranges) {
        const fill: Fill = { position: start, end };
        while (fill.position < fill.end) {
          throwIfCancelled(signal);
          const state = others[turn % others.length] as SourceState;
          turn += 1;
          if (turn > others.length * (this.options.failover.max_retries + 1) * ranges.length + others.length) {
            throw new DepotError('UNAVAILABLE', `Could not re-fetch the bytes ${suspect} sent from any other source.`, { reason: 'repair-failed' });
          }
          try {
            await this.transfer(state, fill, signal ?? new AbortController().signal, async (chunk, offset) => {
              const existing = Buffer.allocUnsafe(chunk.length);
              await this.handle.read(existing, 0, chunk.length, offset);
              state.bytes += chunk.length;
              if (!existing.equals(chunk)) {
                differed = true;
                await writeAll(this.handle, chunk, offset);
              }
            });
          } catch (error) {
            if (signal?.aborted) throw cancelledError();
            if (error instanceof SourceFault && error.kind === 'bad') this.markBad(state, error.message);
          }
        }
      }
      if (!differed) continue;
      const hasher = new OrderedHasher(this.handle.fd);
      const digest = await hasher.digest(this.size).finally(() => void hasher.close());
      if (digest === expected) {
        const state = this.states.find((candidate) => candidate.source.id === suspect);
        if (state) {
          this.markBad(state, `served bytes that do not hash to ${expected}`);
          state.bytes = 0;
        }
        return digest;
      }
    }
    throw new DepotError('DIGEST_MISMATCH', `The downloaded bytes hash to ${actual}, expected ${expected}, and no source could supply the right ones; nothing was kept.`, { reason: 'download-digest' });
  }

  result(destPath: string, digest: string, durationMs: number): MirrorDownloadResult {
    const mirrors = this.states
      .filter((state) => state.requests > 0)
      .map((state) => ({ id: state.source.id, bytes: Math.max(0, state.bytes), requests: state.requests, failures: state.totalFailures }));
    const top = [...mirrors].sort((a, b) => b.bytes - a.bytes)[0];
    return {
      path: destPath,
      digest,
      size: this.size,
      durationMs,
      mirror: top?.id ?? this.states[0]?.source.id ?? '',
      mirrors,
      failovers: this.failovers,
      badMirrors: [...this.badMirrors],
      receivedBytes: this.received,
      wastedBytes: Math.max(0, this.received - this.size),
    };
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.hasher.close();
  }

  /** Starts the next standby source; false when there is none. */
  private activateNext(reason: string | null, signal: AbortSignal, onExit: () => void, allowLastResort: boolean): boolean {
    if (signal.aborted) return false;
    const index = this.standby.findIndex((state) => allowLastResort || state.source.lastResort !== true);
    const next = index < 0 ? undefined : this.standby.splice(index, 1)[0];
    if (!next) return false;
    next.active = true;
    next.failures = 0;
    this.running += 1;
    if (reason !== null) this.options.onEvent?.({ type: 'mirror-added', mirror: next.source.id, reason });
    void this.runSource(next, signal).finally(() => {
      next.active = false;
      onExit();
    });
    return true;
  }

  /** One source's loop: claim a segment (or steal half of one), fetch it, repeat; on failures back off, then give up. */
  private async runSource(state: SourceState, signal: AbortSignal): Promise<void> {
    const { failover } = this.options;
    while (!this.plan.complete && !signal.aborted) {
      const wait = state.breaker.waitMs();
      if (wait > 0) {
        if (!(await pause(wait, signal))) return;
        continue;
      }
      const segment = this.plan.claim(state.source.id, (victim) => this.worthStealing(state, victim));
      if (segment === null) {
        await this.plan.changed(signal);
        continue;
      }
      if (!state.breaker.tryAcquire()) {
        this.plan.release(segment);
        if (!(await pause(Math.max(50, state.breaker.waitMs()), signal))) return;
        continue;
      }
      const before = segment.position;
      try {
        await this.transfer(
          state,
          segment,
          signal,
          (chunk, offset) => this.accept(state, chunk, offset),
          () => this.afterWrite(segment),
        );
        state.breaker.success();
        state.failures = 0;
      } catch (error) {
        this.plan.release(segment);
        if (signal.aborted) return;
        const fault = error instanceof SourceFault ? error : new SourceFault(describe(error), 'retry');
        state.totalFailures += 1;
        this.failovers += 1;
        this.errors.push(`${state.source.id}: ${fault.message}`);
        this.options.onEvent?.({ type: 'failover', mirror: state.source.id, reason: fault.message, offset: segment.position });
        if (fault.kind === 'bad') {
          this.markBad(state, fault.message);
          return;
        }
        if (fault.kind === 'drop') {
          this.options.onEvent?.({ type: 'mirror-dropped', mirror: state.source.id, reason: fault.message });
          return;
        }
        state.breaker.failure();
        state.failures = segment.position > before ? 1 : state.failures + 1;
        if (state.failures > failover.max_retries) {
          this.options.onEvent?.({ type: 'mirror-dropped', mirror: state.source.id, reason: `${state.failures} failures in a row (max_retries ${failover.max_retries})` });
          return;
        }
        const delay = backoffDelayMs(state.failures - 1, { baseMs: failover.retry_delay, maxMs: failover.retry_delay * 8, random: this.options.random });
        if (!(await pause(delay, signal))) return;
      }
    }
  }

  /** Steal only from a source not clearly faster than this one (a fast source's tail is about to arrive anyway). */
  private worthStealing(thief: SourceState, victim: Segment): boolean {
    const owner = this.states.find((state) => state.source.id === victim.owner);
    if (!owner || owner.rate === null || thief.rate === null) return true;
    const left = victim.end - victim.position;
    return owner.rate < thief.rate * 1.5 || left / owner.rate > 0.5;
  }

  /** Writes a chunk of a segment (only what still belongs to it: the back may have been stolen). */
  private async accept(state: SourceState, chunk: Uint8Array, offset: number): Promise<void> {
    await writeAll(this.handle, chunk, offset);
    state.bytes += chunk.length;
    this.written += chunk.length;
    const ranges = this.contributions.get(state.source.id) ?? [];
    const last = ranges.at(-1);
    if (last && last[1] === offset) last[1] = offset + chunk.length;
    else ranges.push([offset, offset + chunk.length]);
    this.contributions.set(state.source.id, ranges);
  }

  /** The segment's position moved: the in-order hash may read further, and dirty pages start to flush. */
  private afterWrite(segment: Segment): void {
    this.plan.settled(segment);
    const frontier = this.plan.frontier();
    this.hasher.advance(frontier);
    if (frontier - this.syncedAt >= syncEveryBytes && this.syncing === null) {
      this.syncedAt = frontier;
      this.syncing = this.handle.datasync().finally(() => (this.syncing = null));
    }
  }

  /**
   * One ranged request for `[fill.position, fill.end)`: each chunk (cut to what is still wanted) goes to
   * `sink`, and `fill.position` advances. Throws a SourceFault saying whether to retry this source.
   */
  private async transfer(state: SourceState, fill: Fill, signal: AbortSignal, sink: (chunk: Uint8Array, offset: number) => Promise<void>, sunk?: () => void): Promise<void> {
    const monitor = new StallMonitor(this.limits, signal);
    const start = fill.position;
    const began = performance.now();
    state.requests += 1;
    try {
      const response = await requestRange({ url: state.source.url, headers: state.source.headers, start, end: fill.end, ifRange: state.etag, signal: monitor.signal }, this.options.fetchImpl);
      try {
        this.options.onResponse?.(state.source.id, { status: response.status, headers: response.headers, start });
        this.checkResponse(state, response.status, response.headers, start);
        for await (const chunk of response.chunks) {
          monitor.add(chunk.length);
          this.received += chunk.length;
          const take = Math.max(0, Math.min(chunk.length, fill.end - fill.position));
          if (take > 0) {
            const offset = fill.position;
            fill.inflight = offset + take;
            await sink(take === chunk.length ? chunk : chunk.subarray(0, take), offset);
            fill.position = offset + take;
            sunk?.();
          }
          if (fill.position >= fill.end) break;
        }
      } finally {
        response.cancel();
      }
      if (fill.position < fill.end) throw new SourceFault(`the body ended ${fill.end - fill.position} bytes early`, 'retry');
      const seconds = (performance.now() - began) / 1000;
      if (seconds > 0.05) {
        const rate = (fill.position - start) / seconds;
        state.rate = state.rate === null ? rate : state.rate * 0.7 + rate * 0.3;
      }
    } catch (error) {
      if (error instanceof SourceFault) throw error;
      const stalled = monitor.stalled();
      if (stalled !== null) throw new SourceFault(`stalled: ${stalled}`, 'retry');
      throw error;
    } finally {
      monitor.dispose();
    }
  }

  private checkResponse(state: SourceState, status: number, headers: Headers, start: number): void {
    if (status === 206) {
      const range = parseContentRange(headers.get('content-range'));
      if (range === null) throw new SourceFault('a 206 without a usable Content-Range', 'drop');
      if (range.total !== this.size) throw new SourceFault(`serves ${range.total} bytes where the signed size is ${this.size}`, 'bad');
      if (range.first !== start) throw new SourceFault(`answered bytes from ${range.first}, asked from ${start}`, 'retry');
    } else if (status === 200) {
      const length = Number(headers.get('content-length') ?? NaN);
      if (Number.isFinite(length) && length !== this.size) throw new SourceFault(`serves ${length} bytes where the signed size is ${this.size}`, 'bad');
      if (start !== 0) {
        // If-Range failed (the object changed since we started) or ranges are not supported: never splice.
        throw new SourceFault(state.etag === null ? 'does not serve byte ranges' : 'the object changed during the download (If-Range)', 'drop');
      }
    } else if (status === 416) {
      throw new SourceFault(`refuses the range (HTTP 416): its copy is not ${this.size} bytes`, 'bad');
    } else if (status === 404 || status === 410) {
      throw new SourceFault(`does not have the file (HTTP ${status})`, 'drop');
    } else if (status >= 500 || status === 429 || status === 408) {
      throw new SourceFault(`HTTP ${status}`, 'retry');
    } else {
      throw new SourceFault(`HTTP ${status}`, 'drop');
    }
    const etag = strongEtag(headers);
    if (etag !== null) state.etag ??= etag;
  }

  private markBad(state: SourceState, reason: string): void {
    if (state.bad) return;
    state.bad = true;
    this.badMirrors.push(state.source.id);
    this.options.onEvent?.({ type: 'mirror-bad', mirror: state.source.id, reason });
    this.standby = this.standby.filter((candidate) => candidate !== state);
  }

  private startProgress(): NodeJS.Timeout {
    const timer = setInterval(() => this.emitProgress(), this.options.progressIntervalMs ?? defaultProgressMs);
    timer.unref();
    return timer;
  }

  private readonly meter = { at: performance.now(), bytes: 0, rate: 0 };

  private emitProgress(): void {
    const now = performance.now();
    const { meter } = this;
    const instant = ((this.written - meter.bytes) * 1000) / Math.max(1, now - meter.at);
    meter.rate = meter.rate === 0 ? instant : meter.rate * 0.6 + instant * 0.4;
    meter.at = now;
    meter.bytes = this.written;
    const left = this.size - this.written;
    this.options.onEvent?.({
      type: 'progress',
      bytes: this.written,
      total: this.size,
      rateBytesPerSec: Math.round(meter.rate),
      etaSeconds: meter.rate > 0 ? Math.round((left / meter.rate) * 10) / 10 : null,
      mirrors: this.states.filter((state) => state.active).map((state) => state.source.id),
    });
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function breakerFor(options: MultiSourceOptions, id: string): CircuitBreaker {
  const existing = options.breakers?.get(id);
  if (existing) return existing;
  const created = new CircuitBreaker({ failureThreshold: Math.max(1, options.failover.max_retries), openMs: options.failover.retry_delay, maxOpenMs: options.failover.retry_delay * 16 });
  options.breakers?.set(id, created);
  return created;
}

async function writeAll(handle: FileHandle, chunk: Uint8Array, offset: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, offset + done);
    done += bytesWritten;
  }
}

/** Sleeps; false when the run was stopped meanwhile (the caller just returns). */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}

function total(ranges: Array<[number, number]>): number {
  return ranges.reduce((sum, [start, end]) => sum + end - start, 0);
}

function describe(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error && current.cause instanceof Error; depth += 1) current = current.cause;
  if (current instanceof Error) {
    const code = (current as NodeJS.ErrnoException).code;
    return code && !current.message.includes(code) ? `${current.message} (${code})` : current.message;
  }
  return String(current);
}

export type { MirrorDownloadEvent };
