import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { MetricsService } from '../../../../electron/services/metrics/metrics-service';
import { silentLogger } from '../../../../electron/services/logger';
import type { AppNotification } from '../../../../shared/domain/health';
import type { AlertRuleInput } from '../../../../shared/domain/metrics';
import { fakeClock, openMetricsTestDatabase } from './metrics-test-database';

let db: Database;
let cleanup: () => void;
let clock: ReturnType<typeof fakeClock>;
let notifications: AppNotification[];
let service: MetricsService;

function createService(): MetricsService {
  return new MetricsService({
    db,
    logger: silentLogger,
    notify: (notification) => notifications.push(notification),
    clock: clock.now,
    flushIntervalMs: 0,
    evaluationIntervalMs: 0,
    retentionIntervalMs: 0,
  });
}

beforeEach(() => {
  ({ db, cleanup } = openMetricsTestDatabase());
  clock = fakeClock(Date.UTC(2026, 10, 1, 12));
  notifications = [];
  service = createService();
});
afterEach(async () => {
  await service.close();
  cleanup();
});

const second = 1_000;
const minute = 60 * second;

function rule(overrides: Partial<AlertRuleInput> & Pick<AlertRuleInput, 'metric' | 'kind' | 'threshold'>): AlertRuleInput {
  return { id: 'r1', name: 'Test rule', windowMs: 5 * minute, forMs: 0, severity: 'warning', ...overrides };
}

/** Stores what was recorded, then evaluates: what the timers do in production. */
function evaluate(): string {
  service.collector.flush();
  service.alerts.evaluate();
  return state();
}

function state(id = 'r1'): string {
  return service.alerts.list().find((status) => status.rule.id === id)?.state ?? 'missing';
}

function titles(): string[] {
  return notifications.map((notification) => notification.title);
}

describe('alert rules', () => {
  it('Maximum: fires when the slowest download in the window is over the threshold, resolves when it leaves the window', () => {
    service.alerts.saveRule(rule({ name: 'Slow downloads', metric: 'download_duration_ms', kind: 'maximum', threshold: 30_000, windowMs: minute }));
    service.collector.recordDownload('resnet-50', '1.0.0', 1_000, 29_000, 'registry');
    expect(evaluate()).toBe('inactive');
    clock.advance(10 * second);
    service.collector.recordDownload('resnet-50', '1.0.0', 1_000, 31_000, 'registry');
    expect(evaluate()).toBe('firing');
    expect(titles()).toEqual(['Alert firing: Slow downloads']);
    expect(notifications[0]?.body).toContain('31000');
    expect(notifications[0]?.level).toBe('warning');
    clock.advance(minute - 1);
    expect(evaluate()).toBe('firing');
    clock.advance(1);
    expect(evaluate()).toBe('resolved');
    expect(titles()).toEqual(['Alert firing: Slow downloads', 'Alert resolved: Slow downloads']);
    expect(notifications[1]?.level).toBe('success');
  });

  it('Minimum: fires while a gauge is under the threshold, never on a gauge nobody set', () => {
    service.alerts.saveRule(rule({ name: 'Mirrors down', metric: 'mirrors_healthy', kind: 'minimum', threshold: 2, severity: 'critical' }));
    expect(evaluate()).toBe('inactive');
    service.collector.setMirrorsHealthy(3);
    expect(evaluate()).toBe('inactive');
    service.collector.setMirrorsHealthy(1);
    expect(evaluate()).toBe('firing');
    expect(notifications[0]?.level).toBe('error');
    service.collector.setMirrorsHealthy(2);
    expect(evaluate()).toBe('resolved');
  });

  it('MaxCount with a `for`: pending while the count holds for less than `for`, firing after, resolved when the window empties', () => {
    service.alerts.saveRule(rule({ name: 'Error burst', metric: 'errors', kind: 'max-count', threshold: 10, windowMs: 5 * minute, forMs: 2 * minute }));
    for (let index = 0; index < 10; index += 1) service.collector.recordError('download', 'registry', 'NOT_FOUND');
    expect(evaluate()).toBe('inactive');
    service.collector.recordError('download', 'registry', 'NOT_FOUND');
    expect(evaluate()).toBe('pending');
    clock.advance(2 * minute - 1);
    expect(evaluate()).toBe('pending');
    expect(notifications).toEqual([]);
    clock.advance(1);
    expect(evaluate()).toBe('firing');
    expect(titles()).toEqual(['Alert firing: Error burst']);
    clock.advance(3 * minute);
    expect(evaluate()).toBe('resolved');
    const history = service.alerts.history('r1', 10).map((entry) => entry.state);
    expect(history).toEqual(['resolved', 'firing', 'pending']);
  });

  it('a condition that stops holding before `for` elapses never fires and never notifies', () => {
    service.alerts.saveRule(rule({ metric: 'errors', kind: 'max-count', threshold: 0, windowMs: minute, forMs: 2 * minute }));
    service.collector.recordError('publish', 'registry', 'INTERNAL');
    expect(evaluate()).toBe('pending');
    clock.advance(minute + 1);
    expect(evaluate()).toBe('inactive');
    clock.advance(5 * minute);
    expect(evaluate()).toBe('inactive');
    expect(notifications).toEqual([]);
  });

  it('MaxBytes: fires when downloaded bytes in the window pass the threshold', () => {
    service.alerts.saveRule(rule({ metric: 'download_bytes', kind: 'max-bytes', threshold: 1_000_000, windowMs: minute }));
    service.collector.recordDownload('a', '1.0.0', 600_000, 10, 'registry');
    expect(evaluate()).toBe('inactive');
    service.collector.recordDownload('b', '1.0.0', 400_001, 10, 'registry');
    expect(evaluate()).toBe('firing');
    clock.advance(minute);
    expect(evaluate()).toBe('resolved');
  });

  it('MaxPercentage: fires on the error rate among all operations, not on an idle registry', () => {
    service.alerts.saveRule(rule({ metric: 'error_rate_percent', kind: 'max-percentage', threshold: 5 }));
    expect(evaluate()).toBe('inactive');
    for (let index = 0; index < 95; index += 1) service.collector.recordDownload('a', '1.0.0', 1, 1, 'registry');
    for (let index = 0; index < 5; index += 1) service.collector.recordError('download', 'registry', 'TRANSFER_FAILED');
    // 5 of 100 is not above 5 %.
    expect(evaluate()).toBe('inactive');
    service.collector.recordError('download', 'registry', 'TRANSFER_FAILED');
    expect(evaluate()).toBe('firing');
    expect(service.alerts.list()[0]?.value).toBeCloseTo((6 / 101) * 100, 6);
  });

  it('a silence keeps a firing and a resolving alert quiet until it ends; the state and history still move', () => {
    service.alerts.saveRule(rule({ name: 'Quiet', metric: 'errors', kind: 'max-count', threshold: 0, windowMs: minute }));
    service.alerts.silence('r1', clock.now() + 10 * minute);
    service.collector.recordError('download', 'registry', 'X');
    expect(evaluate()).toBe('firing');
    clock.advance(2 * minute);
    expect(evaluate()).toBe('resolved');
    expect(notifications).toEqual([]);
    const history = service.alerts.history('r1', 10);
    expect(history.filter((entry) => entry.state === 'firing' || entry.state === 'resolved').every((entry) => entry.silenced)).toBe(true);

    // After the silence ends, the next firing notifies again.
    clock.advance(9 * minute);
    service.collector.recordError('download', 'registry', 'X');
    expect(evaluate()).toBe('firing');
    expect(titles()).toEqual(['Alert firing: Quiet']);
    expect(() => service.alerts.silence('r1', clock.now() - 1)).toThrow(/future/);
  });

  it('acknowledges only a firing alert; state, acknowledgement and silence survive a restart', async () => {
    service.alerts.saveRule(rule({ metric: 'errors', kind: 'max-count', threshold: 0, windowMs: 10 * minute }));
    expect(() => service.alerts.acknowledge('r1')).toThrow(/not firing/);
    service.collector.recordError('download', 'registry', 'X');
    expect(evaluate()).toBe('firing');
    const acknowledged = service.alerts.acknowledge('r1');
    expect(acknowledged.acknowledgedAt).toBe(clock.now());
    service.alerts.silence('r1', clock.now() + 60 * minute);

    await service.close();
    notifications = [];
    service = createService();
    const restored = service.alerts.list()[0];
    expect(restored).toMatchObject({ state: 'firing', acknowledgedAt: clock.now(), silencedUntil: clock.now() + 60 * minute });
    // Still firing after the restart: no second notification.
    expect(evaluate()).toBe('firing');
    expect(notifications).toEqual([]);
  });

  it('refuses invalid rules with a clear message and stores nothing', () => {
    expect(() => service.alerts.saveRule(rule({ metric: 'download_bytes', kind: 'max-count', threshold: 1 }))).toThrow(/max-count applies to downloads, uploads, errors/);
    expect(() => service.alerts.saveRule(rule({ metric: 'error_rate_percent', kind: 'max-percentage', threshold: 150 }))).toThrow(/at most 100/);
    expect(() => service.alerts.saveRule(rule({ metric: 'errors', kind: 'maximum', threshold: -1 }))).toThrow(/negative/);
    expect(() => service.alerts.saveRule(rule({ metric: 'errors', kind: 'maximum', threshold: 1, name: '  ' }))).toThrow(/name is required/);
    expect(service.alerts.list()).toEqual([]);
    expect(() => service.alerts.removeRule('nope')).toThrow(/No alert rule/);
  });

  it('publishes the number of firing alerts as a gauge', () => {
    service.alerts.saveRule(rule({ metric: 'errors', kind: 'max-count', threshold: 0 }));
    service.collector.recordError('download', 'registry', 'X');
    evaluate();
    expect(service.collector.renderPrometheus()).toMatch(/^torsh_depot_alerts_firing 1$/m);
  });
});
