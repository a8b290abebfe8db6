import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createCore } from '../../electron/services/composition-root';
import { silentLogger } from '../../electron/services/logger';
import { receiveUpload } from '../../electron/services/registry/upload-receiver';
import { startServe, type ServingHost } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';
import { makeTestPackage } from '../support/packages';
import { freePort, startNginx, type RunningNginx } from '../support/nginx-server';
import { launchChromium, screenshotPath } from './support/browser';
import { projectRoot } from './support/host-process';

let browser: Browser;
let host: ServingHost;
let mirrorUs: RunningNginx;
let mirrorEu: RunningNginx;
const temp = makeTempDir('torsh-depot-e2e-mirrors-');
const dataDir = path.join(temp.dir, 'data');
const work = path.join(temp.dir, 'work');

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  const usRoot = path.join(temp.dir, 'mirror-us');
  const euRoot = path.join(temp.dir, 'mirror-eu');
  mkdirSync(usRoot, { recursive: true });
  mkdirSync(euRoot, { recursive: true });
  [browser, mirrorUs, mirrorEu] = await Promise.all([launchChromium(), startNginx({ root: usRoot }), startNginx({ root: euRoot })]);

  // Three mirrors: two nginx serving the folders the host syncs into, one on a port nobody listens on.
  const config = path.join(work, 'depot.yaml');
  writeFileSync(
    config,
    `mirrors:
  selection_strategy: priority
  health_check_interval: 1h
  health: { failures_to_down: 1, successes_to_up: 1, timeout: 3s, degraded_latency: 3s }
  list:
    - { id: mirror-us, url: "${mirrorUs.url}", region: us-east-1, priority: 1, weight: 100, sync_to: "${pathToFileURL(usRoot).href}" }
    - { id: mirror-eu, url: "${mirrorEu.url}", region: eu-central-1, priority: 2, weight: 100, sync_to: "${pathToFileURL(euRoot).href}" }
    - { id: mirror-ap, url: "http://127.0.0.1:${await freePort()}", region: ap-southeast-1, priority: 3, weight: 50 }
`,
  );

  // The host's state before it starts: a signing key (mirror indexes are signed with it) and one package.
  // The mirror set comes only from depot.yaml, through serve --config.
  const core = createCore({ dataDir, shell: 'headless', logger: silentLogger });
  try {
    await core.keyring.generate('mirror index');
    const file = await makeTestPackage(work, { name: 'resnet', version: '1.0.0', files: { 'models/weights.bin': 64 * 1024 } });
    await core.registry.publishUpload(await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'e2e' });
  } finally {
    await core.close();
  }
  host = await startServe(['--port', '0', '--data-dir', dataDir, '--config', config]);
});

afterAll(async () => {
  await host?.stop();
  await browser?.close();
  await Promise.all([mirrorUs?.stop(), mirrorEu?.stop()]);
  temp.cleanup();
});

const row = (page: Page, id: string) => page.locator(`[data-testid="mirror-row"][data-mirror="${id}"]`);
const statusOf = (page: Page, id: string) => row(page, id).getAttribute('data-status');

describe('Mirrors screen in Chromium', () => {
  it('syncs and checks three mirrors (one down), edits the set with field errors, previews the ranking for a region', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1120 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-mirrors').click();
    await expect.poll(() => page.getByTestId('mirror-row').count(), { timeout: 15_000 }).toBe(3);
    expect(await page.getByTestId('not-built').count()).toBe(0);
    expect(await page.getByTestId('mirror-row').evaluateAll((rows) => rows.map((element) => element.getAttribute('data-mirror')))).toEqual(['mirror-us', 'mirror-eu', 'mirror-ap']);

    // Sync now: one job with progress, into the two folders nginx serves.
    const sync = page.getByTestId('mirrors-sync');
    expect(await sync.textContent()).toContain('mirror-us, mirror-eu');
    await sync.getByRole('button', { name: 'Sync now' }).click();
    await expect.poll(() => sync.getByTestId('mirrors-sync-status').textContent(), { timeout: 60_000 }).toContain('Synced.');

    // Check all: the two synced nginx mirrors are Healthy, the closed port Unhealthy (failures_to_down: 1).
    await page.getByRole('button', { name: 'Check all' }).click();
    await expect.poll(() => statusOf(page, 'mirror-ap'), { timeout: 30_000 }).toBe('unhealthy');
    await expect.poll(() => statusOf(page, 'mirror-us'), { timeout: 30_000 }).toBe('healthy');
    expect(await statusOf(page, 'mirror-eu')).toBe('healthy');
    expect(await row(page, 'mirror-us').textContent()).toContain('up to date');
    expect(await row(page, 'mirror-ap').textContent()).toMatch(/Unhealthy/);
    expect(await page.getByTestId('mirrors-summary').textContent()).toMatch(/^2 of 3 healthy/);
    expect(await page.getByTestId('map-mirror').evaluateAll((dots) => dots.map((dot) => dot.getAttribute('data-status')))).toEqual(['healthy', 'healthy', 'unhealthy']);
    // Check now on one mirror: its latency history grows.
    await row(page, 'mirror-eu').getByRole('button', { name: 'Check mirror-eu now' }).click();
    await expect.poll(() => row(page, 'mirror-eu').getByRole('button', { name: 'Check mirror-eu now' }).textContent()).toBe('Check now');

    // Add: a URL that is no http(s) is refused next to its field, with the schema's words; nothing is sent.
    await page.getByRole('button', { name: 'Add mirror' }).click();
    const form = page.getByTestId('mirror-form');
    await form.getByLabel('id', { exact: true }).fill('mirror-lab');
    await form.getByLabel('url', { exact: true }).fill('ftp://lab.example.org/torsh');
    await form.getByLabel('region', { exact: true }).fill('atlantis-1');
    await form.getByRole('button', { name: 'Add mirror' }).click();
    await expect.poll(() => form.getByTestId('mirror-error-url').textContent()).toMatch(/http:\/\/ or https:\/\//);
    expect(await form.getByTestId('mirror-error-region').textContent()).toMatch(/not a known/);
    expect(await form.getByLabel('url', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('mirror-row').count()).toBe(3);
    await form.getByLabel('url', { exact: true }).fill('https://lab.example.org/torsh');
    await form.getByLabel('region', { exact: true }).fill('48.85,2.35');
    await form.getByRole('button', { name: 'Add mirror' }).click();
    await expect.poll(() => page.getByTestId('mirror-form').count()).toBe(0);
    expect(await page.getByTestId('mirror-row').count()).toBe(4);
    expect(await statusOf(page, 'mirror-lab')).toBe('unknown');

    // Edit: the form opens with the mirror's values; a bad weight is refused, a good one saved.
    await row(page, 'mirror-lab').getByRole('button', { name: 'Edit mirror-lab' }).click();
    expect(await form.getByLabel('id', { exact: true }).isDisabled()).toBe(true);
    expect(await form.getByLabel('url', { exact: true }).inputValue()).toBe('https://lab.example.org/torsh');
    await form.getByLabel('weight', { exact: true }).fill('heavy');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => form.getByTestId('mirror-error-weight').textContent()).toBe('a whole number');
    await form.getByLabel('weight', { exact: true }).fill('25');
    await form.getByLabel('priority', { exact: true }).fill('9');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.getByTestId('mirror-form').count()).toBe(0);
    await expect.poll(() => row(page, 'mirror-lab').locator('td.num').allTextContents()).toEqual(['9', '25', '0']);

    // Remove (from its edit form) asks once more, then the row goes.
    await row(page, 'mirror-lab').getByRole('button', { name: 'Edit mirror-lab' }).click();
    await form.getByRole('button', { name: 'Remove mirror…' }).click();
    await form.getByRole('button', { name: 'Remove mirror-lab' }).click();
    await expect.poll(() => page.getByTestId('mirror-form').count()).toBe(0);
    expect(await page.getByTestId('mirror-row').count()).toBe(3);

    // Who would serve resnet@1.0.0: by priority mirror-us first; geographic from Frankfurt puts mirror-eu first.
    const preview = page.getByTestId('rank-preview');
    await preview.getByLabel('Package').fill('resnet');
    await preview.getByLabel('Version').fill('1.0.0');
    await preview.getByLabel('Client region').fill('eu-west-3');
    const ranked = () => preview.getByTestId('rank-entry').evaluateAll((entries) => entries.map((entry) => entry.querySelector('.rank-id')?.textContent ?? ''));
    await expect.poll(ranked, { timeout: 15_000 }).toEqual(expect.arrayContaining(['mirror-us', 'mirror-eu', 'mirror-ap']));
    expect((await ranked()).slice(0, 2)).toEqual(['mirror-us', 'mirror-eu']);
    await preview.getByLabel('selection_strategy').selectOption('geographic');
    await expect.poll(async () => (await ranked()).slice(0, 2), { timeout: 15_000 }).toEqual(['mirror-eu', 'mirror-us']);
    const skipped = preview.locator('.rank-skipped', { hasText: 'mirror-ap' });
    expect(await skipped.count()).toBe(1);
    expect(await page.getByTestId('map-client').count()).toBe(1);

    // Keyboard: the strategy picker and the per-row actions are reachable and labelled.
    await preview.getByLabel('selection_strategy').focus();
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('SELECT');

    await page.screenshot({ path: screenshotPath('mirrors') });
    // The README's picture is refreshed on demand only, so a test run leaves the checkout clean.
    if (process.env.TORSH_DEPOT_DOCS_SCREENSHOTS === '1') {
      mkdirSync(path.join(projectRoot, 'docs', 'images'), { recursive: true });
      await page.screenshot({ path: path.join(projectRoot, 'docs', 'images', 'mirrors-screen.png'), fullPage: true });
    }
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
