import { randomBytes } from 'node:crypto';
import { DepotError } from '../../../shared/errors';
import { alertRuleInputSchema, gaugeMetrics, type AlertHistoryEntry, type AlertRule, type AlertRuleInput, type AlertStatus } from '../../../shared/domain/metrics';
import type { AppNotification } from '../../../shared/domain/health';
import type { AlertRepository, AlertStateFields } from './alert-repository';
import type { MetricsRepository } from './metrics-repository';
import type { GaugeMetric, MetricsCollector } from './metrics-collector';
import { alertmanagerPayload, type AlertWebhook } from './alert-webhook';

export interface AlertEngineOptions {
  repository: AlertRepository;
  metrics: MetricsRepository;
  collector: MetricsCollector;
  notify: (notification: AppNotification) => void;
  webhook: AlertWebhook | null;
  /** The registry's URL for the webhook's externalURL, if it is served. */
  externalUrl?: () => string | null;
  clock?: () => number;
}

/**
 * Alert rules evaluated like Prometheus': a condition that holds makes the alert pending, holding
 * it for the rule's `for` makes it fire, and when it stops holding a firing alert resolves.
 * Firing and resolving notify (desktop/browser notification, webhook) unless silenced.
 */
export class AlertEngine {
  private readonly clock: () => number;

  constructor(private readonly options: AlertEngineOptions) {
    this.clock = options.clock ?? Date.now;
  }

  list(): AlertStatus[] {
    return this.options.repository.list();
  }

  history(ruleId: string | undefined, limit: number): AlertHistoryEntry[] {
    return this.options.repository.history(ruleId, limit);
  }

  /** The setAlertThreshold of the issue: creates or replaces a rule after validating it. */
  saveRule(input: AlertRuleInput): AlertStatus {
    const parsed = alertRuleInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new DepotError('VALIDATION_FAILED', `The alert rule is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'rule'}: ${issue.message}`).join('; ')}`);
    }
    const rule: AlertRule = { ...parsed.data, id: parsed.data.id ?? `rule-${randomBytes(5).toString('hex')}` };
    this.options.repository.saveRule(rule, this.clock());
    return this.require(rule.id);
  }

  removeRule(id: string): void {
    if (!this.options.repository.remove(id)) throw new DepotError('NOT_FOUND', `No alert rule "${id}".`);
    this.publishFiringCount();
  }

  pruneHistory(before: number): number {
    return this.options.repository.pruneHistory(before);
  }

  acknowledge(id: string): AlertStatus {
    const status = this.require(id);
    if (status.state !== 'firing') throw new DepotError('CONFLICT', `"${status.rule.name}" is not firing; only a firing alert can be acknowledged.`);
    const now = this.clock();
    this.options.repository.updateState(id, { ...stateOf(status), acknowledgedAt: now });
    this.options.repository.addHistory(id, 'acknowledged', now, status.value, false);
    return this.require(id);
  }

  /** Silences notifications of one rule until `until` (ms since the epoch); null lifts the silence. */
  silence(id: string, until: number | null): AlertStatus {
    const status = this.require(id);
    const now = this.clock();
    if (until !== null && until <= now) throw new DepotError('VALIDATION_FAILED', 'A silence must end in the future.');
    this.options.repository.updateState(id, { ...stateOf(status), silencedUntil: until });
    if (until !== null) this.options.repository.addHistory(id, 'silenced', now, status.value, true);
    return this.require(id);
  }

  /** Measures every rule and moves its state; returns the rules that changed state. */
  evaluate(): AlertStatus[] {
    const now = this.clock();
    const changed: AlertStatus[] = [];
    for (const status of this.options.repository.list()) {
      const value = status.rule.enabled ? this.measure(status.rule, now) : null;
      const holds = value !== null && conditionHolds(status.rule, value);
      const next = this.transition(status, holds, value, now);
      if (next.state !== status.state) changed.push({ ...status, ...next });
    }
    this.publishFiringCount();
    return changed;
  }

  /** The rule's metric over its window, or a gauge's current value; null when there is nothing to measure. */
  measure(rule: AlertRule, now: number): number | null {
    if (gaugeMetrics.includes(rule.metric)) return this.options.collector.gaugeValue(rule.metric as GaugeMetric);
    const from = now - rule.windowMs;
    const window = (kind: 'download' | 'upload' | 'error') => this.options.metrics.window(kind, from, now);
    switch (rule.metric) {
      case 'downloads':
        return window('download').count;
      case 'uploads':
        return window('upload').count;
      case 'errors':
        return window('error').count;
      case 'download_bytes':
        return window('download').bytes;
      case 'upload_bytes':
        return window('upload').bytes;
      case 'download_duration_ms':
        return window('download').maxDurationMs;
      case 'upload_duration_ms':
        return window('upload').maxDurationMs;
      case 'error_rate_percent': {
        const errors = window('error').count;
        const total = errors + window('download').count + window('upload').count;
        return total === 0 ? null : (errors / total) * 100;
      }
      default:
        return null;
    }
  }

  private transition(status: AlertStatus, holds: boolean, value: number | null, now: number): AlertStateFields {
    const { repository } = this.options;
    let next: AlertStateFields = { ...stateOf(status), value, evaluatedAt: now };
    const silenced = status.silencedUntil !== null && status.silencedUntil > now;
    if (holds) {
      if (next.state === 'inactive' || next.state === 'resolved') {
        next = { ...next, state: 'pending', activeSince: now };
        repository.addHistory(status.rule.id, 'pending', now, value, silenced);
      }
      if (next.state === 'pending' && now - (next.activeSince ?? now) >= status.rule.forMs) {
        next = { ...next, state: 'firing', firedAt: now, resolvedAt: null, acknowledgedAt: null };
        repository.addHistory(status.rule.id, 'firing', now, value, silenced);
        repository.updateState(status.rule.id, next);
        if (!silenced) this.announce({ ...status, ...next });
        return next;
      }
    } else if (next.state === 'pending') {
      next = { ...next, state: 'inactive', activeSince: null };
      repository.addHistory(status.rule.id, 'inactive', now, value, silenced);
    } else if (next.state === 'firing') {
      next = { ...next, state: 'resolved', activeSince: null, resolvedAt: now };
      repository.addHistory(status.rule.id, 'resolved', now, value, silenced);
      repository.updateState(status.rule.id, next);
      if (!silenced) this.announce({ ...status, ...next });
      return next;
    }
    repository.updateState(status.rule.id, next);
    return next;
  }

  private announce(status: AlertStatus): void {
    const description = describe(status);
    const firing = status.state === 'firing';
    this.options.notify({
      title: firing ? `Alert firing: ${status.rule.name}` : `Alert resolved: ${status.rule.name}`,
      body: description,
      level: firing ? (status.rule.severity === 'critical' ? 'error' : status.rule.severity === 'warning' ? 'warning' : 'info') : 'success',
    });
    this.options.webhook?.send(alertmanagerPayload(status, description, this.options.externalUrl?.() ?? ''));
  }

  private publishFiringCount(): void {
    this.options.collector.setAlertsFiring(this.options.repository.list().filter((status) => status.state === 'firing').length);
  }

  private require(id: string): AlertStatus {
    const status = this.options.repository.get(id);
    if (!status) throw new DepotError('NOT_FOUND', `No alert rule "${id}".`);
    return status;
  }
}

export function conditionHolds(rule: AlertRule, value: number): boolean {
  return rule.kind === 'minimum' ? value < rule.threshold : value > rule.threshold;
}

function stateOf(status: AlertStatus): AlertStateFields {
  const { rule: _rule, ...state } = status;
  return state;
}

function describe(status: AlertStatus): string {
  const { rule, value } = status;
  const comparison = rule.kind === 'minimum' ? 'below' : 'above';
  const measured = value === null ? 'no value' : formatValue(value);
  const window = gaugeMetrics.includes(rule.metric) ? '' : ` over ${Math.round(rule.windowMs / 1000)} s`;
  return status.state === 'firing'
    ? `${rule.metric}${window} is ${measured}, ${comparison} the threshold ${formatValue(rule.threshold)} (${rule.severity}).`
    : `${rule.metric}${window} is back to ${measured} (threshold ${formatValue(rule.threshold)}).`;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
