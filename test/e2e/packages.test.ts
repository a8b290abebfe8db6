import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { makeTestPackage } from '../support/packages';
import { screenshotPath, useBrowserAndHost } from './support/browser';
import { dropFile } from './support/drop-file';

const fixture = useBrowserAndHost('packages');

describe('Packages screen in Chromium', () => {
  it('publishes a dropped package, finds it by search, shows its detail and downloads it', async () => {
    const file = await makeTestPackage(fixture.workDir, {
      name: 'vision/quokka-detector',
      version: '1.2.0',
      description: 'Finds quokkas in camera-trap images',
      files: { 'models/encoder/weights.pt': 200_000, 'config/model.yaml': 'depth: 50\n', 'docs/README.md': '# Quokka\n' },
    });
    const page = await fixture.browser.newPage({ viewport: { width: 1360, height: 860 }, acceptDownloads: true });
    await page.goto(fixture.host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-settings').click();

    // Not a package: refused with a clear message, nothing uploaded.
    await dropFile(page, path.join(fixture.workDir, (await import('node:fs')).readdirSync(fixture.workDir).find((entry) => entry.startsWith('src-')) ?? '', 'config', 'model.yaml'));
    await expect.poll(() => page.getByTestId('publish-error').textContent()).toContain('is not a .torshpkg package');
    await page.getByRole('button', { name: 'Close' }).click();

    await dropFile(page, file);
    await expect.poll(() => page.getByTestId('screen-title').textContent()).toBe('Packages');
    await expect.poll(() => page.getByTestId('inspection-summary').textContent(), { timeout: 15_000 }).toContain('vision/quokka-detector 1.2.0');
    expect(await page.getByTestId('inspection-summary').textContent()).toContain('3 resources');
    expect(await page.getByTestId('publish-description').inputValue()).toBe('Finds quokkas in camera-trap images');
    await page.getByTestId('publish-author').fill('Wildlife ML team');
    await page.getByTestId('publish-license').fill('Apache-2.0');
    await page.getByTestId('publish-tags').fill('vision, detection, marsupials');
    await page.screenshot({ path: screenshotPath('publish-form') });
    await page.getByTestId('publish-submit').click();
    await expect.poll(() => page.getByTestId('publish-done').count(), { timeout: 30_000 }).toBe(1);

    await page.getByTestId('package-search').fill('marsup');
    await expect.poll(() => page.getByTestId('search-result').count(), { timeout: 10_000 }).toBe(1);
    await page.getByTestId('search-result').first().click();
    await expect.poll(() => page.getByTestId('detail-title').textContent()).toContain('vision/quokka-detector');
    const digest = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
    expect(await page.getByTestId('detail-digest').textContent()).toBe(digest);
    expect(await page.getByTestId('package-detail').textContent()).toContain('models/encoder/weights.pt');
    expect(await page.getByTestId('package-detail').textContent()).toContain('Wildlife ML team');
    await page.screenshot({ path: screenshotPath('packages') });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-link').click()]);
    const saved = path.join(fixture.workDir, 'downloaded.torshpkg');
    await download.saveAs(saved);
    expect(createHash('sha256').update(readFileSync(saved)).digest('hex')).toBe(digest.slice('sha256:'.length));

    // Registries and the cache appear in Settings; the embedded registry is served by this host.
    await page.getByTestId('nav-settings').click();
    await expect.poll(() => page.getByTestId('registry-row').first().textContent()).toContain(new URL(fixture.host.url).origin);
    expect(await page.getByTestId('cache-usage').textContent()).toContain('0 packages');
    await page.screenshot({ path: screenshotPath('settings-registries'), fullPage: true });
    await page.getByTestId('nav-packages').click();
    await page.getByTestId('search-result').first().click();
    await expect.poll(() => page.getByTestId('detail-title').textContent()).toContain('vision/quokka-detector');

    // Yank from the UI: search no longer lists it.
    await page.getByTestId('yank-toggle').click();
    await expect.poll(() => page.getByTestId('yank-toggle').textContent()).toBe('Unyank');
    await page.getByTestId('package-search').fill('quokka');
    await expect.poll(() => page.getByTestId('search-empty').count(), { timeout: 10_000 }).toBe(1);
    await page.close();
  });

  it('packs a chosen folder (files uploaded with their paths), then publishes it like a dropped package', async () => {
    const folder = path.join(fixture.workDir, 'Wombat Segmenter');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const { randomBytes } = await import('node:crypto');
    mkdirSync(path.join(folder, 'models', 'heads'), { recursive: true });
    mkdirSync(path.join(folder, 'config'), { recursive: true });
    writeFileSync(path.join(folder, 'models', 'heads', 'mask.pt'), randomBytes(300_000));
    writeFileSync(path.join(folder, 'config', 'model.yaml'), 'classes: 3\n');
    writeFileSync(path.join(folder, 'README.md'), '# Wombat segmenter\n');

    const page = await fixture.browser.newPage({ viewport: { width: 1360, height: 860 } });
    await page.goto(fixture.host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('choose-folder').setInputFiles(folder);
    await expect.poll(() => page.getByTestId('folder-summary').textContent(), { timeout: 15_000 }).toContain('3 files');
    const panel = (await page.getByTestId('publish-panel').textContent()) ?? '';
    expect(panel).toContain('models/heads/mask.pt');
    expect(panel).toContain('docs/README.md');
    expect(await page.getByTestId('pack-name').inputValue()).toBe('wombat-segmenter');

    // A bad version is refused on the form, nothing packed.
    await page.getByTestId('pack-version').fill('1.0');
    await page.getByTestId('pack-submit').click();
    await expect.poll(() => page.getByTestId('pack-error').textContent()).toContain('semantic version');

    await page.getByTestId('pack-name').fill('zoo/wombat-segmenter');
    await page.getByTestId('pack-version').fill('0.3.0');
    await page.getByTestId('pack-description').fill('Segments wombats');
    await page.getByTestId('pack-submit').click();
    await expect.poll(() => page.getByTestId('inspection-summary').textContent(), { timeout: 30_000 }).toContain('zoo/wombat-segmenter 0.3.0');
    expect(await page.getByTestId('inspection-summary').textContent()).toContain('3 resources');
    expect(await page.getByTestId('publish-description').inputValue()).toBe('Segments wombats');
    await page.screenshot({ path: screenshotPath('folder-packed') });
    await page.getByTestId('publish-submit').click();
    await expect.poll(() => page.getByTestId('publish-done').count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('detail-title').textContent(), { timeout: 10_000 }).toContain('zoo/wombat-segmenter');
    expect(await page.getByTestId('package-detail').textContent()).toContain('models/heads/mask.pt');
    await page.close();
  });
});
