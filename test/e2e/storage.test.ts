import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Browser } from 'playwright-core';
import { startServe, type ServingHost } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';
import { startS3rver, s3rverCredentials, type RunningServer } from '../support/object-servers';
import { S3Storage } from '../../electron/services/storage/s3-storage';
import { launchChromium, screenshotPath } from './support/browser';

let browser: Browser;
let host: ServingHost;
let s3: RunningServer;
const data = makeTempDir('torsh-depot-e2e-storage-');

beforeAll(async () => {
  [browser, s3] = await Promise.all([launchChromium(), startS3rver(['e2e-bucket'])]);
  host = await startServe(['--port', '0', '--data-dir', data.dir]);
  const bucket = new S3Storage({ bucket: 'e2e-bucket', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3rverCredentials, streamedChecksums: false });
  // 60 objects: more than one page of the browser (50 per page).
  for (let index = 0; index < 60; index += 1) {
    await bucket.put(`models/object-${String(index).padStart(2, '0')}.bin`, Readable.from([Buffer.alloc(1000 + index, index)]), {
      cacheControl: 'public, max-age=60',
      metadata: { owner: 'vision-team' },
    });
  }
});

afterAll(async () => {
  await host?.stop();
  await browser?.close();
  await s3?.stop();
  data.cleanup();
});

describe('Storage screen in Chromium', () => {
  it('adds an S3 backend, tests it, browses pages of keys with metadata, copies one to the data folder and shows stats', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-storage').click();
    await expect.poll(() => page.getByTestId('storage-backend-row').count()).toBe(1);

    const form = page.getByTestId('storage-backend-form');
    await form.getByLabel('Id', { exact: true }).fill('lab-s3');
    await form.getByLabel('Name', { exact: true }).fill('Lab S3');
    await form.getByLabel('Bucket', { exact: true }).fill('e2e-bucket');
    await form.getByLabel('Endpoint (empty for AWS)').fill(s3.endpoint);
    await form.getByLabel(/^Access key id/).fill(s3rverCredentials.accessKeyId);
    await form.getByLabel(/^Secret access key/).fill(s3rverCredentials.secretAccessKey);
    expect(await form.getByLabel(/^Secret access key/).getAttribute('type')).toBe('password');
    await form.getByRole('button', { name: 'Save backend' }).click();
    await expect.poll(() => page.getByTestId('storage-backend-row').count()).toBe(2);
    const row = page.getByTestId('storage-backend-row').filter({ hasText: 'Lab S3' });
    expect(await row.textContent()).toContain('keys stored: accessKeyId, secretAccessKey');
    // Settings hold the configuration, never the keys.
    const settingsText = readFileSync(path.join(data.dir, 'settings.json'), 'utf8');
    expect(settingsText).toContain('e2e-bucket');
    expect(settingsText).not.toContain(s3rverCredentials.secretAccessKey);

    await row.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => row.locator('.success-text').textContent(), { timeout: 30_000 }).toMatch(/Reachable/);
    await row.getByRole('button', { name: 'Usage' }).click();
    await expect.poll(() => row.getByTestId('storage-usage').textContent(), { timeout: 30_000 }).toMatch(/^60 objects/);

    await row.getByRole('button', { name: 'Browse' }).click();
    const browserCard = page.getByTestId('storage-browser');
    await expect.poll(() => browserCard.getByTestId('storage-key-row').count(), { timeout: 30_000 }).toBe(50);
    await browserCard.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => browserCard.getByTestId('storage-key-row').count(), { timeout: 30_000 }).toBe(10);
    expect(await browserCard.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await browserCard.getByRole('button', { name: 'Previous' }).click();
    await expect.poll(() => browserCard.getByTestId('storage-key-row').first().textContent()).toContain('models/object-00.bin');

    await browserCard.getByRole('button', { name: 'models/object-07.bin' }).click();
    const detail = page.getByTestId('storage-object-detail');
    await expect.poll(() => detail.textContent(), { timeout: 15_000 }).toContain('vision-team');
    expect(await detail.textContent()).toContain('public, max-age=60');
    await detail.getByLabel('Data folder').check();
    await detail.getByRole('button', { name: 'Copy', exact: true }).click();
    await expect.poll(() => page.getByTestId('storage-copy-status').textContent(), { timeout: 60_000 }).toContain('Copied to every chosen backend.');
    expect(readFileSync(path.join(data.dir, 'models', 'object-07.bin')).length).toBe(1007);
    await page.screenshot({ path: screenshotPath('storage') });

    await page.getByTestId('storage-copy-status').getByRole('button', { name: 'Refresh statistics' }).click();
    const stats = page.getByTestId('storage-stats');
    await expect.poll(() => stats.textContent()).toContain('lab-s3');
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
