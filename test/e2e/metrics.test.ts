import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { startServe, type ServingHost } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';
import { makeTestPackage } from '../support/packages';
import { launchChromium, screenshotPath } from './support/browser';

const adminKey = 'e2e-metrics-admin-key-0123456789';
let browser: Browser;
let host: ServingHost;
let origin: string;
let receiver: Server;
let receiverUrl: string;
const received: Array<{ status: string; alerts: Array<{ labels: Record<string, string> }> }> = [];
const data = makeTempDir('torsh-depot-e2e-metrics-');
const work = makeTempDir('torsh-depot-e2e-metrics-work-');

beforeAll(async () => {
  browser = await launchChromium();
  host = await startServe(['--port', '0', '--data-dir', data.dir, '--default-visibility', 'public'], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  origin = new URL(host.url).origin;
  // A real Alertmanager-style webhook receiver on loopback.
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof received)[number]);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await host?.stop();
  await browser?.close();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  data.cleanup();
  work.cleanup();
});

async function downloadTimes(count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    const response = await fetch(`${origin}/api/v1/packages/vision/quokka/1.0.0/download`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }
}

describe('Metrics screen in Chromium', () => {
  it('charts real downloads as they happen, validates and saves a rule, shows the alert firing, acknowledges it', async () => {
    const file = await makeTestPackage(work.dir, { name: 'vision/quokka', version: '1.0.0', files: { 'models/weights.pt': 300_000 } });
    const size = readFileSync(file).length;
    const published = await fetch(`${origin}/api/v1/packages/vision/quokka/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` }, body: readFileSync(file) });
    expect(published.status).toBe(201);

    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    await page.goto(host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-metrics').click();
    await expect.poll(() => page.getByTestId('screen-title').textContent()).toBe('Metrics');
    await expect.poll(() => page.getByTestId('chart-downloads').getAttribute('data-points'), { timeout: 15_000 }).toBe('60');
    expect(await page.getByTestId('chart-downloads').getAttribute('data-total')).toBe('0');

    // The webhook setting refuses credentials in the URL, then takes the receiver.
    await page.getByTestId('webhook-url').fill('http://user:secret@127.0.0.1:1/hook');
    await page.getByTestId('webhook-url').blur();
    await expect.poll(() => page.getByTestId('monitoring-settings').textContent()).toContain('no credentials');
    await page.getByTestId('webhook-url').fill(receiverUrl);
    await page.getByTestId('webhook-url').blur();
    await expect.poll(() => page.getByTestId('monitoring-settings').textContent()).not.toContain('no credentials');

    // The rule editor refuses what the core would refuse, field by field.
    await page.getByTestId('rule-new').click();
    await page.getByTestId('rule-name').fill('');
    await page.getByTestId('rule-threshold').fill('-3');
    await page.getByTestId('rule-save').click();
    await expect.poll(() => page.getByTestId('rule-error-name').textContent()).toContain('name is required');
    expect(await page.getByTestId('rule-error-threshold').textContent()).toContain('cannot be negative');
    await page.getByTestId('rule-name').fill('Download burst');
    await page.getByTestId('rule-kind').selectOption('max-count');
    await page.getByTestId('rule-metric').selectOption('downloads');
    await page.getByTestId('rule-threshold').fill('2');
    await page.getByTestId('rule-window').fill('300');
    await page.getByTestId('rule-for').fill('0');
    await page.getByTestId('rule-severity').selectOption('critical');
    await page.getByTestId('rule-save').click();
    await expect.poll(() => page.getByTestId('alert-row').count()).toBe(1);
    expect(await page.getByTestId('alert-state').textContent()).toBe('inactive');

    // Real downloads through the registry: the chart moves by itself (live event), and the rule fires.
    await downloadTimes(3);
    await expect.poll(() => page.getByTestId('chart-downloads').getAttribute('data-total'), { timeout: 20_000 }).toBe('3');
    await expect.poll(() => page.getByTestId('chart-bandwidth').getAttribute('data-total'), { timeout: 20_000 }).toBe(String(3 * size));
    await expect.poll(() => page.getByTestId('alert-state').textContent(), { timeout: 20_000 }).toBe('firing');
    await expect.poll(() => page.locator('.toast').filter({ hasText: 'Alert firing: Download burst' }).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('alert-value').textContent()).toBe('3');
    await expect.poll(() => received.length, { timeout: 20_000 }).toBe(1);
    expect(received[0]).toMatchObject({ status: 'firing', alerts: [{ labels: { alertname: 'Download burst', severity: 'critical' } }] });
    await expect.poll(() => page.getByTestId('top-packages').textContent()).toContain('vision/quokka');
    expect(await page.getByTestId('latency-download').textContent()).toMatch(/ms|s/);
    await page.screenshot({ path: screenshotPath('metrics-alert-firing') });

    await page.getByTestId('alert-acknowledge').click();
    await expect.poll(() => page.getByTestId('alert-acknowledged').count()).toBe(1);
    await expect.poll(() => page.getByTestId('alert-history').textContent()).toMatch(/acknowledged[\s\S]*firing[\s\S]*pending/);

    // More downloads keep moving the chart while the screen is open.
    await downloadTimes(2);
    await expect.poll(() => page.getByTestId('chart-downloads').getAttribute('data-total'), { timeout: 20_000 }).toBe('5');

    // The range picker asks for another resolution; the totals stay.
    await page.getByTestId('metrics-range').getByText('1 hour', { exact: true }).click();
    await expect.poll(() => page.getByTestId('chart-downloads').getAttribute('data-points')).toBe('60');
    expect(await page.getByTestId('chart-downloads').getAttribute('data-total')).toBe('5');
    await page.close();
  });
});
