export interface StallLimits {
  /** No byte for this long, or under `minRateBytesPerSec` over this long, is a stall (ms). */
  stallTimeoutMs: number;
  minRateBytesPerSec: number;
}

/**
 * Watches one transfer: aborts it when no byte arrived for `stallTimeoutMs`, or when the bytes of the
 * last `stallTimeoutMs` average under `minRateBytesPerSec` (a trickle is as bad as silence).
 */
export class StallMonitor {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly samples: Array<{ at: number; bytes: number }> = [];
  private readonly started = performance.now();
  private lastByteAt = this.started;
  private total = 0;
  private readonly ticker: NodeJS.Timeout;
  private reason: string | null = null;

  constructor(
    private readonly limits: StallLimits,
    parent: AbortSignal,
  ) {
    this.signal = AbortSignal.any([parent, this.controller.signal]);
    const tickMs = Math.max(20, Math.min(500, limits.stallTimeoutMs / 8));
    this.ticker = setInterval(() => this.check(), tickMs);
    this.ticker.unref();
  }

  /** Bytes arrived. */
  add(bytes: number): void {
    this.total += bytes;
    this.lastByteAt = performance.now();
  }

  /** Why the transfer was cut, or null when it was not. */
  stalled(): string | null {
    return this.reason;
  }

  dispose(): void {
    clearInterval(this.ticker);
  }

  private check(): void {
    const now = performance.now();
    this.samples.push({ at: now, bytes: this.total });
    const { stallTimeoutMs, minRateBytesPerSec } = this.limits;
    while (this.samples.length > 1 && (this.samples[1] as { at: number }).at <= now - stallTimeoutMs) this.samples.shift();
    if (now - this.lastByteAt >= stallTimeoutMs) {
      this.cut(`no byte for ${Math.round(stallTimeoutMs)} ms`);
      return;
    }
    const oldest = this.samples[0];
    if (minRateBytesPerSec > 0 && oldest && now - this.started >= stallTimeoutMs && now - oldest.at >= stallTimeoutMs * 0.9) {
      const rate = ((this.total - oldest.bytes) * 1000) / (now - oldest.at);
      if (rate < minRateBytesPerSec) this.cut(`${Math.round(rate / 1024)} KiB/s, under min_rate ${Math.round(minRateBytesPerSec / 1024)} KiB/s`);
    }
  }

  private cut(reason: string): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.dispose();
    this.controller.abort(new Error(`stalled: ${reason}`));
  }
}
