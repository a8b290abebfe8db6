import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeTestPackage } from '../support/packages';
import { screenshotPath, useBrowserAndHost } from './support/browser';
import { dropFile } from './support/drop-file';

const fixture = useBrowserAndHost('encryption');

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('Encrypted packages in Chromium', () => {
  it('publishes with a passphrase, shows the lock, refuses a wrong passphrase and downloads the plaintext with the right one', async () => {
    const file = await makeTestPackage(fixture.workDir, { name: 'secret-koala', version: '0.3.0', description: 'Koala detector, embargoed', files: { 'models/koala.pt': 150_000 } });
    const page = await fixture.browser.newPage({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
    await page.goto(fixture.host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);

    await dropFile(page, file);
    await expect.poll(() => page.getByTestId('inspection-summary').textContent(), { timeout: 15_000 }).toContain('secret-koala 0.3.0');
    const panel = page.getByTestId('publish-panel');
    await panel.getByRole('radio', { name: 'Encrypt with a passphrase' }).check();
    expect(await panel.getByLabel('Algorithm').inputValue()).toBe('aes-256-gcm');
    await panel.getByLabel('Passphrase', { exact: true }).fill('eucalyptus-at-dawn-42');
    await panel.getByLabel('Repeat passphrase').fill('eucalyptus-at-dawn-24');
    await page.getByTestId('publish-submit').click();
    await expect.poll(() => page.getByTestId('publish-form-error').textContent()).toContain('do not match');
    await panel.getByLabel('Repeat passphrase').fill('eucalyptus-at-dawn-42');
    expect(await page.getByTestId('passphrase-strength').textContent()).toContain('Strength: strong');
    await page.screenshot({ path: screenshotPath('publish-encrypted') });
    await page.getByTestId('publish-submit').click();
    await expect.poll(() => page.getByTestId('publish-done').count(), { timeout: 30_000 }).toBe(1);

    // The lock shows in the list and the detail; the resources stay undisclosed.
    await expect.poll(() => page.getByTestId('version-row').filter({ hasText: 'secret-koala' }).getByRole('img', { name: /Encrypted \(AES-256-GCM, passphrase\)/ }).count()).toBe(1);
    await page.getByTestId('version-row').filter({ hasText: 'secret-koala' }).click();
    const detail = page.getByTestId('package-detail');
    await expect.poll(() => detail.getByTestId('encryption-badge').first().textContent()).toContain('encrypted · AES-256-GCM · passphrase');
    expect(await detail.textContent()).not.toContain('models/koala.pt');

    await page.getByTestId('decrypt-open').click();
    const dialog = page.getByRole('dialog', { name: /Decrypt secret-koala 0.3.0/ });
    await dialog.getByLabel('Passphrase').fill('wrong passphrase');
    await dialog.getByRole('button', { name: 'Decrypt and download' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent(), { timeout: 20_000 }).toContain('Wrong passphrase');
    await page.screenshot({ path: screenshotPath('decrypt-wrong-passphrase') });

    await dialog.getByLabel('Passphrase').fill('eucalyptus-at-dawn-42');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), dialog.getByRole('button', { name: 'Decrypt and download' }).click()]);
    expect(download.suggestedFilename()).toBe('secret-koala-0.3.0.torshpkg');
    const saved = path.join(fixture.workDir, 'decrypted.torshpkg');
    await download.saveAs(saved);
    expect(sha256(readFileSync(saved))).toBe(sha256(readFileSync(file)));
    await expect.poll(() => dialog.getByTestId('decrypt-done').count()).toBe(1);
    await page.keyboard.press('Escape');

    // Dropping the same version again: choosing encryption warns before publishing that it will be refused.
    await dropFile(page, file);
    await expect.poll(() => page.getByTestId('inspection-summary').textContent(), { timeout: 15_000 }).toContain('secret-koala 0.3.0');
    expect(await page.getByTestId('publish-encrypt-conflict').count()).toBe(0);
    await page.getByTestId('publish-panel').getByRole('radio', { name: 'Encrypt with a passphrase' }).check();
    await expect.poll(() => page.getByTestId('publish-encrypt-conflict').textContent()).toContain('will be refused');
    await page.close();
  });
});
