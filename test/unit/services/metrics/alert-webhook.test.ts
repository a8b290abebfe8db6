import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertWebhookDefaults, AlertWebhook, alertmanagerPayload, type AlertmanagerPayload } from '../../../../electron/services/metrics/alert-webhook';
import { silentLogger } from '../../../../electron/services/logger';
import type { AlertStatus } from '../../../../shared/domain/metrics';

interface Receiver {
  url: string;
  requests: Array<{ at: number; body: AlertmanagerPayload; contentType: string | undefined }>;
  close(): Promise<void>;
}

const servers: Server[] = [];
const webhooks: AlertWebhook[] = [];
afterEach(async () => {
  await Promise.all(webhooks.splice(0).map((webhook) => webhook.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A real HTTP receiver on 127.0.0.1 that answers each request with the next status of `statuses` (the last repeats). */
async function startReceiver(statuses: number[]): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ at: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertmanagerPayload, contentType: request.headers['content-type'] });
      const status = statuses[Math.min(requests.length - 1, statuses.length - 1)] ?? 200;
      response.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/alerts`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function makeWebhook(url: string | null, options: Partial<ConstructorParameters<typeof AlertWebhook>[0]> = {}): AlertWebhook {
  const webhook = new AlertWebhook({ url: () => url, logger: silentLogger, baseDelayMs: 20, maxDelayMs: 200, ...options });
  webhooks.push(webhook);
  return webhook;
}

const firing: AlertStatus = {
  rule: { id: 'slow', name: 'Slow downloads', metric: 'download_duration_ms', kind: 'maximum', threshold: 30_000, windowMs: 60_000, forMs: 0, severity: 'critical', enabled: true },
  state: 'firing',
  activeSince: Date.UTC(2026, 10, 1, 12),
  firedAt: Date.UTC(2026, 10, 1, 12),
  resolvedAt: null,
  value: 31_000,
  acknowledgedAt: null,
  silencedUntil: null,
  evaluatedAt: Date.UTC(2026, 10, 1, 12),
};

describe('alert webhook', () => {
  it('POSTs an Alertmanager-compatible payload', async () => {
    const receiver = await startReceiver([200]);
    const webhook = makeWebhook(receiver.url);
    webhook.send(alertmanagerPayload(firing, 'download_duration_ms is 31000', 'http://127.0.0.1:7878'));
    webhook.send(alertmanagerPayload({ ...firing, state: 'resolved', resolvedAt: Date.UTC(2026, 10, 1, 12, 5) }, 'back to normal', 'http://127.0.0.1:7878'));
    await webhook.idle();
    expect(receiver.requests).toHaveLength(2);
    const [first, second] = receiver.requests;
    expect(first?.contentType).toBe('application/json');
    expect(first?.body).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'torsh-depot',
      groupLabels: { alertname: 'Slow downloads' },
      externalURL: 'http://127.0.0.1:7878',
      alerts: [{ status: 'firing', labels: { alertname: 'Slow downloads', severity: 'critical' }, startsAt: '2026-11-01T12:00:00.000Z', endsAt: '0001-01-01T00:00:00Z', fingerprint: 'slow' }],
    });
    expect(second?.body.alerts[0]).toMatchObject({ status: 'resolved', endsAt: '2026-11-01T12:05:00.000Z' });
    expect(webhook.deliveredCount).toBe(2);
  });

  it('retries a failing receiver a bounded number of times, backing off, then gives up', async () => {
    const receiver = await startReceiver([503]);
    const delays: Array<[number, number]> = [];
    const webhook = makeWebhook(receiver.url, { maxAttempts: 5, baseDelayMs: 40, maxDelayMs: 200, onRetryDelay: (delayMs, attempt) => delays.push([attempt, delayMs]) });
    webhook.send(alertmanagerPayload(firing, 'x', ''));
    await webhook.idle();
    expect(receiver.requests).toHaveLength(5);
    expect(webhook.failedCount).toBe(1);
    // Exactly exponential, capped: 40, 80, 160, then 200 (not 320); none after the last attempt.
    expect(delays).toEqual([
      [1, 40],
      [2, 80],
      [3, 160],
      [4, 200],
    ]);
    // And the waits happened: each gap is at least its delay (a timer never fires early).
    const gaps = receiver.requests.slice(1).map((request, index) => request.at - (receiver.requests[index]?.at ?? 0));
    gaps.forEach((gap, index) => expect(gap).toBeGreaterThanOrEqual((delays[index]?.[1] ?? 0) - 5));
  });

  it('uses the documented defaults: 4 attempts, 1 s doubling up to 60 s, 20 queued payloads', () => {
    expect(alertWebhookDefaults).toEqual({ maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 60_000, maxQueued: 20, timeoutMs: 10_000 });
  });

  it('succeeds on a retry after transient failures and does not retry a payload the receiver refuses (4xx)', async () => {
    const flaky = await startReceiver([500, 429, 200]);
    const webhook = makeWebhook(flaky.url);
    webhook.send(alertmanagerPayload(firing, 'x', ''));
    await webhook.idle();
    expect(flaky.requests).toHaveLength(3);
    expect(webhook.deliveredCount).toBe(1);

    const refusing = await startReceiver([400]);
    const strict = makeWebhook(refusing.url);
    strict.send(alertmanagerPayload(firing, 'x', ''));
    await strict.idle();
    expect(refusing.requests).toHaveLength(1);
    expect(strict.failedCount).toBe(1);
  });

  it('bounds the queue: a flapping rule cannot build a storm of deliveries', async () => {
    const receiver = await startReceiver([503]);
    const webhook = makeWebhook(receiver.url, { maxAttempts: 2, baseDelayMs: 10, maxQueued: 3 });
    for (let index = 0; index < 50; index += 1) webhook.send(alertmanagerPayload(firing, `flap ${index}`, ''));
    await webhook.idle();
    // One in flight when the burst arrived, three queued: at most 4 payloads × 2 attempts.
    expect(receiver.requests.length).toBeLessThanOrEqual(8);
    expect(webhook.droppedCount).toBeGreaterThanOrEqual(46);
    expect(receiver.requests.at(-1)?.body.commonAnnotations.description).toBe('flap 49');
  });

  it('gives up on an unreachable receiver after the same bounded attempts, and sends nothing without a URL', async () => {
    const receiver = await startReceiver([200]);
    const deadUrl = receiver.url;
    await receiver.close();
    servers.length = 0;
    const webhook = makeWebhook(deadUrl, { maxAttempts: 3 });
    webhook.send(alertmanagerPayload(firing, 'x', ''));
    await webhook.idle();
    expect(webhook.failedCount).toBe(1);

    const none = makeWebhook(null);
    none.send(alertmanagerPayload(firing, 'x', ''));
    await none.idle();
    expect(none.deliveredCount + none.failedCount).toBe(0);
  });
});
