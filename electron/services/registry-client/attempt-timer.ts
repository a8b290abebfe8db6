/**
 * One HTTP attempt's abort signal: the caller's signal plus a timer that fires when nothing
 * happened for `timeoutMs` (no headers yet, or no bytes for that long while a body streams).
 * An idle timer, not a total deadline: a 20 GB transfer may take hours but never stalls 30 s.
 */
export class AttemptTimer {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private expired = false;

  constructor(
    private readonly callerSignal: AbortSignal | undefined,
    private readonly timeoutMs: number,
  ) {
    this.signal = callerSignal ? AbortSignal.any([callerSignal, this.controller.signal]) : this.controller.signal;
    this.touch();
  }

  /** Something arrived (or left): restart the idle clock. */
  touch(ms = this.timeoutMs): void {
    if (this.expired) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new Error(`no response for ${Math.round(ms / 1000)} s`));
    }, ms);
  }

  /** True when this attempt was cut by the idle timer (a network failure, retryable). */
  timedOut(): boolean {
    return this.expired && !this.callerSignal?.aborted;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
