import type { MirrorHealth } from '../../../shared/domain/mirrors';
import { DepotError } from '../../../shared/errors';
import type { Logger } from '../logger';
import { boundedHttpGet } from './bounded-http-get';
import { nextHealth, withTransfer, type ProbeOutcome, type ProbeThresholds } from './probe-health';
import type { ProbeHistoryEntry, ProbeRepository } from './probe-repository';

/** Anything probed: a mirror, a CDN edge, a replication node. `probePath` is resolved against `url`. */
export interface ProbeTarget {
  kind: string;
  id: string;
  url: string;
  probePath: string;
}

export interface ProbeSettings {
  intervalMs: number;
  timeoutMs: number;
  thresholds: ProbeThresholds;
}

/** What a check measured beyond "it answered" (staleness, certificate); throws when the target fails. */
export type ProbeFindings = Omit<ProbeOutcome, 'at' | 'ok' | 'error'>;
export type ProbeInspector = (target: ProbeTarget, options: { timeoutMs: number; signal: AbortSignal }) => Promise<ProbeFindings>;

/** A plain check: GET the probe path, any 2xx within the timeout is good. */
export const httpStatusInspector: ProbeInspector = async (target, { timeoutMs, signal }) => {
  const response = await boundedHttpGet(new URL(target.probePath, target.url.endsWith('/') ? target.url : `${target.url}/`), { timeoutMs, maxBytes: 1024 * 1024, signal });
  if (response.status < 200 || response.status >= 300) throw new DepotError('UNAVAILABLE', `${target.probePath} answered ${response.status}.`, { reason: 'bad-status' });
  return { latencyMs: response.latencyMs, tlsExpiresAt: response.tlsExpiresAt };
};

export interface CheckedEvent {
  target: ProbeTarget;
  previous: MirrorHealth;
  health: MirrorHealth;
  outcome: ProbeOutcome;
}

export interface ProberOptions {
  repository: ProbeRepository;
  logger: Logger;
  now?: () => Date;
  random?: () => number;
  /** Checks kept per target (default 500). */
  historyLimit?: number;
  /** Told after every check (metrics, events, alerts). */
  onChecked?: (event: CheckedEvent) => void;
}

export interface ProbeWatch {
  /** Re-reads the target list now (after an add, remove or settings change). */
  refresh(): void;
  stop(): void;
}

/**
 * The one health machinery: checks with a timeout, EWMA latency and throughput, hysteresis, bounded
 * history, and a jittered schedule per target. Mirrors, CDN edges and replication nodes all use it,
 * each with its own kind and inspector.
 */
export class Prober {
  private readonly inFlight = new Map<string, Promise<MirrorHealth>>();
  private readonly watches = new Set<{ stop(): void }>();
  private readonly controller = new AbortController();
  private readonly now: () => Date;
  private readonly random: () => number;

  constructor(private readonly options: ProberOptions) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
  }

  /** Checks a target now (joins a check already running for it) and records the result. */
  check(target: ProbeTarget, settings: ProbeSettings, inspect: ProbeInspector = httpStatusInspector): Promise<MirrorHealth> {
    const key = `${target.kind}\u0000${target.id}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const promise = this.runCheck(target, settings, inspect).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  private async runCheck(target: ProbeTarget, settings: ProbeSettings, inspect: ProbeInspector): Promise<MirrorHealth> {
    const at = this.now();
    let outcome: ProbeOutcome;
    try {
      const findings = await inspect(target, { timeoutMs: settings.timeoutMs, signal: this.controller.signal });
      outcome = { ...findings, at, ok: true, error: null };
    } catch (error) {
      if (this.controller.signal.aborted) throw error;
      outcome = { at, ok: false, latencyMs: null, error: (error as Error).message };
    }
    const previous = await this.options.repository.state(target.kind, target.id);
    const health = nextHealth(previous, outcome, settings.thresholds);
    await this.options.repository.saveState(target.kind, target.id, health);
    const entry: ProbeHistoryEntry = { at: at.toISOString(), ok: outcome.ok, status: health.status, latencyMs: outcome.ok ? outcome.latencyMs : null, error: outcome.error ?? outcome.degradedBy ?? null };
    await this.options.repository.appendHistory(target.kind, target.id, entry, this.options.historyLimit ?? 500);
    if (previous.status !== health.status) this.options.logger.info(`${target.kind} ${target.id}: ${previous.status} → ${health.status}${health.lastError ? ` (${health.lastError})` : ''}`);
    this.options.onChecked?.({ target, previous, health, outcome });
    return health;
  }

  /** Folds a finished transfer into the target's throughput average. */
  async recordTransfer(kind: string, id: string, bytes: number, durationMs: number): Promise<void> {
    const previous = await this.options.repository.state(kind, id);
    await this.options.repository.saveState(kind, id, withTransfer(previous, bytes, durationMs));
  }

  /**
   * Checks every target `source` lists on its own timer: the interval ±10 % jitter (so a fleet of hosts
   * does not probe a mirror in lockstep), the first check soon after start.
   */
  watch(source: () => Promise<{ targets: ProbeTarget[]; settings: ProbeSettings }>, inspect: ProbeInspector = httpStatusInspector): ProbeWatch {
    const timers = new Map<string, NodeJS.Timeout>();
    let stopped = false;
    let current: { targets: ProbeTarget[]; settings: ProbeSettings } = { targets: [], settings: { intervalMs: 60_000, timeoutMs: 5_000, thresholds: { failuresToDown: 3, successesToUp: 2, degradedLatencyMs: 2_000 } } };
    const jittered = (ms: number): number => Math.max(50, Math.round(ms * (0.9 + this.random() * 0.2)));
    const schedule = (target: ProbeTarget, delayMs: number): void => {
      clearTimeout(timers.get(target.id));
      const timer = setTimeout(() => {
        const latest = current.targets.find((candidate) => candidate.id === target.id);
        if (stopped || !latest) return;
        void this.check(latest, current.settings, inspect)
          .catch((error: unknown) => this.options.logger.warn(`${latest.kind} ${latest.id}: check failed: ${(error as Error).message}`))
          .finally(() => {
            if (!stopped && current.targets.some((candidate) => candidate.id === latest.id)) schedule(latest, jittered(current.settings.intervalMs));
          });
      }, delayMs);
      timer.unref();
      timers.set(target.id, timer);
    };
    const refresh = (): void => {
      void source()
        .then((next) => {
          if (stopped) return;
          const intervalChanged = next.settings.intervalMs !== current.settings.intervalMs;
          current = next;
          const ids = new Set(next.targets.map((target) => target.id));
          for (const [id, timer] of timers) {
            if (!ids.has(id)) {
              clearTimeout(timer);
              timers.delete(id);
            }
          }
          for (const target of next.targets) if (!timers.has(target.id) || intervalChanged) schedule(target, jittered(Math.min(1_000, next.settings.intervalMs)));
        })
        .catch((error: unknown) => this.options.logger.warn(`probe targets could not be read: ${(error as Error).message}`));
    };
    const handle = {
      refresh,
      stop: () => {
        stopped = true;
        for (const timer of timers.values()) clearTimeout(timer);
        timers.clear();
        this.watches.delete(handle);
      },
    };
    this.watches.add(handle);
    refresh();
    return handle;
  }

  /** Stops every schedule and aborts running checks. */
  async close(): Promise<void> {
    for (const watch of [...this.watches]) watch.stop();
    this.controller.abort();
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
