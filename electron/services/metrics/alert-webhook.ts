import type { Logger } from '../logger';
import type { AlertStatus } from '../../../shared/domain/metrics';

/** The body Alertmanager POSTs to webhook receivers (version 4), so existing receivers accept ours. */
export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Array<{
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
}

/** Alertmanager's "zero time": an alert that has not ended. */
const zeroTime = '0001-01-01T00:00:00Z';

export function alertmanagerPayload(status: AlertStatus, description: string, externalUrl: string): AlertmanagerPayload {
  const firing = status.state === 'firing';
  const labels = { alertname: status.rule.name, severity: status.rule.severity, metric: status.rule.metric, rule_id: status.rule.id, service: 'torsh-depot' };
  const annotations = { summary: `${status.rule.name} is ${firing ? 'firing' : 'resolved'}`, description };
  return {
    version: '4',
    groupKey: `{}:{alertname="${status.rule.name}"}`,
    truncatedAlerts: 0,
    status: firing ? 'firing' : 'resolved',
    receiver: 'torsh-depot',
    groupLabels: { alertname: status.rule.name },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: externalUrl,
    alerts: [
      {
        status: firing ? 'firing' : 'resolved',
        labels,
        annotations,
        startsAt: new Date(status.firedAt ?? status.activeSince ?? Date.now()).toISOString(),
        endsAt: firing || status.resolvedAt === null ? zeroTime : new Date(status.resolvedAt).toISOString(),
        generatorURL: externalUrl,
        fingerprint: status.rule.id,
      },
    ],
  };
}

export interface AlertWebhookOptions {
  /** Read at each delivery, so a changed setting applies at once; null sends nothing. */
  url: () => string | null;
  logger: Logger;
  /** Attempts per payload, the first included. */
  maxAttempts?: number;
  /** Delay before the second attempt; doubles after each failure, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Payloads waiting beyond this are dropped, oldest first: a flapping rule cannot flood the receiver. */
  maxQueued?: number;
  timeoutMs?: number;
  /** Told of each wait before a retry (tests check the exact schedule without guessing from timings). */
  onRetryDelay?: (delayMs: number, attempt: number) => void;
}

/** The defaults the README documents: up to 4 attempts, 1 s doubling to at most 60 s, 20 queued. */
export const alertWebhookDefaults = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 60_000, maxQueued: 20, timeoutMs: 10_000 } as const;

/**
 * Delivers alert payloads one at a time, with bounded retries and exponential backoff. A 4xx other
 * than 408/429 is the receiver refusing the payload: retrying would not help.
 */
export class AlertWebhook {
  private readonly queue: AlertmanagerPayload[] = [];
  private running: Promise<void> | null = null;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;
  private readonly stopped = new AbortController();
  droppedCount = 0;
  deliveredCount = 0;
  failedCount = 0;

  constructor(private readonly options: AlertWebhookOptions) {
    this.maxAttempts = options.maxAttempts ?? alertWebhookDefaults.maxAttempts;
    this.baseDelayMs = options.baseDelayMs ?? alertWebhookDefaults.baseDelayMs;
    this.maxDelayMs = options.maxDelayMs ?? alertWebhookDefaults.maxDelayMs;
    this.maxQueued = options.maxQueued ?? alertWebhookDefaults.maxQueued;
    this.timeoutMs = options.timeoutMs ?? alertWebhookDefaults.timeoutMs;
  }

  send(payload: AlertmanagerPayload): void {
    if (this.stopped.signal.aborted || this.options.url() === null) return;
    this.queue.push(payload);
    while (this.queue.length > this.maxQueued) {
      this.queue.shift();
      this.droppedCount += 1;
    }
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
  }

  /** Resolves once every queued payload was delivered or given up on. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.stopped.abort();
    this.queue.length = 0;
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    for (let payload = this.queue.shift(); payload; payload = this.queue.shift()) {
      if (await this.deliver(payload)) this.deliveredCount += 1;
      else this.failedCount += 1;
    }
  }

  private async deliver(payload: AlertmanagerPayload): Promise<boolean> {
    let problem = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      const url = this.options.url();
      if (url === null || this.stopped.signal.aborted) return false;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(payload),
          signal: AbortSignal.any([this.stopped.signal, AbortSignal.timeout(this.timeoutMs)]),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return true;
        problem = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 408 && response.status !== 429) break;
      } catch (error) {
        problem = (error as Error).message;
      }
      if (attempt < this.maxAttempts) {
        const delayMs = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        this.options.onRetryDelay?.(delayMs, attempt);
        await this.sleep(delayMs);
      }
    }
    this.options.logger.warn(`alert webhook: gave up on "${payload.groupLabels.alertname ?? ''}" (${payload.status}): ${problem}`);
    return false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.stopped.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
