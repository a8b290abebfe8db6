import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { stringify as toYaml } from 'yaml';
import { startServe, stopAllServing, type ServingHost } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';
import { makeTestPackage } from '../support/packages';
import { killRegion, restartRegion, sectionFor, useRegions, type Region } from '../integration/replication/replication-support';
import { launchChromium, screenshotPath } from './support/browser';

const adminKey = 'e2e-replication-admin-key-0123456';
const world = useRegions('torsh-depot-e2e-replication-');
let browser: Browser;
let host: ServingHost;
const temp = makeTempDir('torsh-depot-e2e-replication-data-');

beforeAll(async () => {
  browser = await launchChromium();
  const config = path.join(temp.dir, 'depot.yaml');
  // Hints wait 30 s between tries: the queue drains only when the screen's Retry asks for it.
  writeFileSync(config, toYaml({ replication: sectionFor(world.three, { consistency: 'eventual', hints: { base_backoff: '30s', max_backoff: '30s' } }) }));
  host = await startServe(['--port', '0', '--data-dir', path.join(temp.dir, 'data'), '--config', config], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
});

afterAll(async () => {
  await stopAllServing();
  await browser?.close();
  temp.cleanup();
});

const node = (page: Page, id: string) => page.locator(`[data-testid="replication-node"][data-node="${id}"]`);

describe('Replication screen in Chromium against serve --config with three s3rver regions', () => {
  it('shows a node killed by PID as down, a version’s placement and its queued hint; after the node returns, Retry drains the queue', async () => {
    const [, , ap] = world.three as [Region, Region, Region];
    const page = await browser.newPage({ viewport: { width: 1360, height: 1600 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-replication').click();
    await expect.poll(() => page.getByTestId('replication-node').count(), { timeout: 15_000 }).toBe(3);
    expect(await page.getByTestId('not-built').count()).toBe(0);
    // Grouped by region, one node each.
    expect(await page.getByTestId('replication-region').evaluateAll((items) => items.map((item) => item.getAttribute('data-region')))).toEqual(['us-east-1', 'europe-west4', 'asia-east1']);

    await killRegion(ap);
    let restarted = false;
    try {
      const file = await makeTestPackage(world.scratch, { name: 'resnet50', version: '1.2.0', files: { 'models/weights.pt': 40_000 } });
      const api = `${new URL(host.url).origin}/api/v1`;
      const published = await fetch(`${api}/packages/resnet50/1.2.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}`, 'X-Torsh-Consistency': 'eventual' }, body: readFileSync(file) });
      expect(published.status).toBe(201);

      // The node down is shown as such, with its copy waiting as a hint; the others hold the version.
      await expect.poll(() => node(page, 'ap').getAttribute('data-status'), { timeout: 30_000 }).toBe('unhealthy');
      expect(await node(page, 'ap').getByTestId('replication-node-status').textContent()).toBe('Down');
      await expect.poll(() => node(page, 'us').getAttribute('data-status'), { timeout: 30_000 }).toBe('healthy');
      await expect.poll(() => node(page, 'eu').getAttribute('data-status'), { timeout: 30_000 }).toBe('healthy');
      expect(Number(await node(page, 'ap').getByTestId('replication-node-hints').textContent())).toBeGreaterThan(0);
      const waiting = page.locator('[data-testid="replication-task"][data-node="ap"]').first();
      await expect.poll(() => waiting.getByTestId('replication-task-state').textContent(), { timeout: 15_000 }).toBe('queued hint (node down)');
      expect(await waiting.textContent()).toContain('resnet50@1.2.0');
      expect(Number(await page.getByTestId('replication-queue-depth').textContent())).toBeGreaterThan(0);

      // Which nodes hold resnet50@1.2.0.
      await page.getByTestId('replication-placement-query').fill('resnet50@1.2.0');
      await page.getByRole('button', { name: 'Look up' }).click();
      await expect.poll(() => page.getByTestId('replication-placement-node').count(), { timeout: 15_000 }).toBe(3);
      const placement = await page.getByTestId('replication-placement-node').evaluateAll((items) => Object.fromEntries(items.map((item) => [item.getAttribute('data-node'), item.getAttribute('data-state')])));
      expect(placement.us).toBe('done');
      expect(placement.eu).toBe('done');
      expect(placement.ap).not.toBe('done');
      expect(await page.getByTestId('replication-lag').locator('figure').count()).toBe(3);

      await restartRegion(ap);
      restarted = true;
      // Retry now instead of at the next 30 s backoff: the queue drains and the node is up.
      await node(page, 'ap').getByTestId('replication-node-retry').click();
      await expect.poll(() => page.getByTestId('replication-queue-depth').textContent(), { timeout: 10_000 }).toBe('0');
      await expect.poll(() => node(page, 'ap').getAttribute('data-status'), { timeout: 15_000 }).toBe('healthy');
      expect(await page.getByTestId('replication-queue-empty').count()).toBe(1);
      await page.getByRole('button', { name: 'Look up' }).click();
      await expect
        .poll(() => page.getByTestId('replication-placement-node').evaluateAll((items) => items.map((item) => item.getAttribute('data-state'))), { timeout: 15_000 })
        .toEqual(['done', 'done', 'done']);
    } finally {
      if (!restarted) await restartRegion(ap);
    }
    if (process.env.TORSH_DEPOT_DOCS_SCREENSHOTS === '1') await page.screenshot({ path: screenshotPath('replication'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
