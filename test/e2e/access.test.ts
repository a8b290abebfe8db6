import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServingHost } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';
import { makeTestPackage } from '../support/packages';
import { launchChromium, screenshotPath } from './support/browser';

const adminKey = 'e2e-access-admin-key-0123456789';
let browser: Browser;
let host: ServingHost;
let api: string;
const data = makeTempDir('torsh-depot-e2e-access-');
const work = makeTempDir('torsh-depot-e2e-access-work-');

beforeAll(async () => {
  browser = await launchChromium();
  host = await startServe(['--port', '0', '--data-dir', data.dir], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  api = `${new URL(host.url).origin}/api/v1`;
  const file = await makeTestPackage(work.dir, { name: 'vision/otter', version: '1.0.0' });
  const published = await fetch(`${api}/packages/vision/otter/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` }, body: readFileSync(file) });
  expect(published.status).toBe(201);
});

afterAll(async () => {
  await host?.stop();
  await browser?.close();
  data.cleanup();
  work.cleanup();
});

/** The section tabs are radio buttons inside labels (a segmented control): click the label, as a user does. */
const openTab = (page: Page, testId: string): Promise<void> => page.locator('label', { has: page.getByTestId(testId) }).click();

const whoamiStatus = async (key: string): Promise<number> => (await fetch(`${api}/whoami`, { headers: { Authorization: `Bearer ${key}` } })).status;

describe('Access screen in Chromium', () => {
  it('onboards a user, issues a key shown once, revokes it, makes a package public, and exports the audit log', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(host.url).origin });
    const page = await context.newPage();
    await page.goto(host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-access').click();
    await expect.poll(() => page.getByTestId('screen-title').textContent()).toBe('Access');

    // Users: add one, grant a scoped role.
    await page.getByTestId('new-user-name').fill('dana');
    await page.getByTestId('new-user-email').fill('dana@example.com');
    await page.getByTestId('create-user').click();
    const dana = page.getByTestId('user-row').filter({ hasText: 'dana@example.com' });
    await expect.poll(() => dana.count()).toBe(1);
    await dana.getByLabel('Role to grant dana').selectOption('ml-engineer');
    await dana.getByLabel('Scope for dana').fill('vision/*');
    await dana.getByTestId('grant-button').click();
    await expect.poll(() => dana.textContent()).toContain('ml-engineer on vision/*');
    await page.screenshot({ path: screenshotPath('access-users') });

    // Roles as a permission matrix.
    await openTab(page, 'access-tab-roles');
    expect(await page.getByTestId('role-viewer').getByLabel('viewer has DownloadPackage').count()).toBe(1);
    expect(await page.getByTestId('role-viewer').getByLabel('viewer lacks UploadPackage').count()).toBe(1);
    await page.screenshot({ path: screenshotPath('access-roles'), fullPage: true });

    // Keys: created, shown once with a copy button, and it works against the registry.
    await openTab(page, 'access-tab-keys');
    await page.getByTestId('new-key-user').selectOption({ label: 'dana' });
    await page.getByTestId('create-key').click();
    const shown = page.getByTestId('created-key-value');
    await expect.poll(() => shown.count()).toBe(1);
    const key = (await shown.textContent()) ?? '';
    expect(key).toMatch(/^tdk_/);
    await page.getByTestId('copy-key').click();
    await expect.poll(() => page.getByTestId('copy-key').textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    expect(await whoamiStatus(key)).toBe(200);
    await page.screenshot({ path: screenshotPath('access-keys') });
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('created-key').count()).toBe(0);
    expect(await page.content()).not.toContain(key);
    const danaKey = page.getByTestId('key-row').filter({ hasText: key.slice(0, 12) });
    await danaKey.getByTestId('revoke-key').click();
    await expect.poll(() => danaKey.textContent()).toContain('revoked');
    expect(await whoamiStatus(key)).toBe(401);

    // Packages: internal by default (anonymous callers see it as absent: 404, like a missing one); make it public.
    expect((await fetch(`${api}/packages/vision/otter/1.0.0`)).status).toBe(404);
    await openTab(page, 'access-tab-packages');
    await page.getByLabel('Visibility of vision/otter').selectOption('public');
    await expect.poll(async () => (await fetch(`${api}/packages/vision/otter/1.0.0`)).status).toBe(200);
    expect(await page.getByTestId('package-access-row').textContent()).toContain('admin');

    // Audit: filter to key events, export as JSON lines.
    await openTab(page, 'access-tab-audit');
    await page.getByTestId('audit-action').fill('key.');
    await page.getByTestId('audit-filter').click();
    await expect.poll(() => page.getByTestId('audit-row').count()).toBe(3); // the admin key at start-up, dana's, its revocation
    await page.screenshot({ path: screenshotPath('access-audit') });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-export').click()]);
    const saved = path.join(work.dir, 'audit.jsonl');
    await download.saveAs(saved);
    const events = readFileSync(saved, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { action: string; actor: string | null });
    expect(events.map((event) => event.action)).toEqual(['key.revoke', 'key.create', 'key.create']);
    expect(events[0]?.actor).toBe('local');
    await context.close();
  });
});
