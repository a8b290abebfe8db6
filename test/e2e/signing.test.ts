import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { startServe, type ServingHost } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';
import { makeTestPackage } from '../support/packages';
import { launchChromium, screenshotPath } from './support/browser';

const adminKey = 'e2e-signing-admin-key-0123456789';
let browser: Browser;
let host: ServingHost;
const data = makeTempDir('torsh-depot-e2e-signing-');
const work = makeTempDir('torsh-depot-e2e-signing-work-');

beforeAll(async () => {
  browser = await launchChromium();
  host = await startServe(['--port', '0', '--data-dir', data.dir, '--default-visibility', 'public'], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  const file = await makeTestPackage(work.dir, { name: 'signed-model', version: '1.0.0', description: 'A model to sign' });
  const origin = new URL(host.url).origin;
  const published = await fetch(`${origin}/api/v1/packages/signed-model/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` }, body: readFileSync(file) });
  expect(published.status).toBe(201);
});

afterAll(async () => {
  await host?.stop();
  await browser?.close();
  data.cleanup();
  work.cleanup();
});

describe('Signing keys & trust in Chromium', () => {
  it('generates a key, exports it, signs every version with it, and the version shows a trusted signature', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-packages').click();
    await page.getByTestId('package-search').fill('signed');
    await expect.poll(() => page.getByTestId('search-result').count(), { timeout: 10_000 }).toBe(1);
    await page.getByTestId('search-result').first().click();
    await expect.poll(() => page.getByTestId('signature-badge').textContent()).toBe('unsigned');

    await page.getByTestId('nav-settings').click();
    await page.getByTestId('new-key-label').fill('Release key');
    await page.getByRole('button', { name: 'Generate key' }).click();
    await expect.poll(() => page.getByTestId('signing-key-row').count()).toBe(1);
    const keyId = /[0-9A-F]{16}/.exec((await page.getByTestId('signing-key-row').textContent()) ?? '')?.[0] ?? '';
    expect(keyId).not.toBe('');
    await expect.poll(() => page.getByTestId('trusted-key-row').first().textContent()).toContain(keyId);
    await page.getByTestId('signing-key-row').getByRole('button', { name: 'Export public key' }).click();
    await expect.poll(() => page.getByTestId('exported-public-key').textContent()).toContain(`minisign public key ${keyId}`);

    await page.getByTestId('rotation-key').selectOption(keyId);
    await page.getByRole('button', { name: 'Sign all versions' }).click();
    await expect.poll(() => page.getByTestId('rotation-status').textContent(), { timeout: 30_000 }).toBe('Rotation succeeded');
    await page.screenshot({ path: screenshotPath('settings-signing'), fullPage: true });

    await page.getByTestId('nav-packages').click();
    await page.getByTestId('package-search').fill('signed');
    await expect.poll(() => page.getByTestId('search-result').count(), { timeout: 10_000 }).toBe(1);
    await page.getByTestId('search-result').first().click();
    await expect.poll(() => page.getByTestId('signature-badge').textContent(), { timeout: 10_000 }).toContain('signed · trusted');
    expect(await page.getByTestId('signature-badge').textContent()).toContain(keyId);

    // The same signature over HTTP verifies against the exported key.
    const origin = new URL(host.url).origin;
    const signature = await (await fetch(`${origin}/api/v1/packages/signed-model/1.0.0/signature?key_id=${keyId}`)).text();
    expect(signature).toMatch(/trusted comment: timestamp:\d+\tname:signed-model\tversion:1\.0\.0\tsha256:/);
    await page.close();
  });

  it('signs on publish with the chosen key, and the version shows a trusted badge in its detail and version list', async () => {
    const file = await makeTestPackage(work.dir, { name: 'signed-model', version: '1.1.0', description: 'Signed as it is published' });
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('new-key-label').fill('Publish key');
    await page.getByRole('button', { name: 'Generate key' }).click();
    const row = page.getByTestId('signing-key-row').filter({ hasText: 'Publish key' });
    await expect.poll(() => row.count()).toBe(1);
    const keyId = /[0-9A-F]{16}/.exec((await row.textContent()) ?? '')?.[0] ?? '';
    expect(keyId).not.toBe('');

    await page.getByTestId('nav-packages').click();
    await page.getByTestId('choose-package').setInputFiles(file);
    await expect.poll(() => page.getByTestId('inspection-summary').textContent(), { timeout: 15_000 }).toContain('signed-model 1.1.0');
    await page.getByLabel('Sign with').selectOption(keyId);
    await page.screenshot({ path: screenshotPath('publish-sign-with') });
    await page.getByRole('button', { name: 'Publish and sign' }).click();
    await expect.poll(() => page.getByTestId('publish-done').count(), { timeout: 30_000 }).toBe(1);

    await page.getByTestId('package-search').fill('signed');
    await expect.poll(() => page.getByTestId('search-result').count(), { timeout: 10_000 }).toBe(1);
    await page.getByTestId('search-result').first().click();
    await expect.poll(() => page.getByTestId('detail-title').textContent()).toContain('1.1.0');
    await expect.poll(() => page.getByTestId('signature-badge').textContent(), { timeout: 10_000 }).toContain('signed · trusted');
    expect(await page.getByTestId('signature-badge').textContent()).toContain(keyId);
    // Every version carries its own badge in the version list.
    await expect.poll(() => page.locator('.versions li').count()).toBe(2);
    expect(await page.locator('.versions [data-signature-state]').count()).toBe(2);
    expect(await page.locator('.versions li', { hasText: '1.1.0' }).locator('[data-signature-state]').getAttribute('data-signature-state')).toBe('signed-trusted');

    // The choice is remembered for the next drop.
    await page.getByTestId('choose-package').setInputFiles(await makeTestPackage(work.dir, { name: 'signed-model', version: '1.2.0' }));
    await expect.poll(() => page.getByTestId('inspection-summary').textContent(), { timeout: 15_000 }).toContain('signed-model 1.2.0');
    expect(await page.getByLabel('Sign with').inputValue()).toBe(keyId);
    await page.close();
  });
});
