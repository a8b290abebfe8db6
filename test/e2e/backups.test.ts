import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createCore } from '../../electron/services/composition-root';
import { silentLogger } from '../../electron/services/logger';
import { receiveUpload } from '../../electron/services/registry/upload-receiver';
import { startServe, type ServingHost } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';
import { makeTestPackage } from '../support/packages';
import { launchChromium, screenshotPath } from './support/browser';

const adminKey = 'e2e-backups-admin-key-0123456789';
let browser: Browser;
let host: ServingHost;
const temp = makeTempDir('torsh-depot-e2e-backups-');
const dataDir = path.join(temp.dir, 'data');
const work = path.join(temp.dir, 'work');
const repoDir = path.join(temp.dir, 'repository');

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  browser = await launchChromium();
  // The host's state before it starts: two versions large enough that a backup reports progress.
  const core = createCore({ dataDir, shell: 'headless', logger: silentLogger });
  try {
    for (const version of ['1.0.0', '1.1.0']) {
      const file = await makeTestPackage(work, { name: 'acme/model', version, files: { 'models/weights.bin': 24 * 1024 * 1024, 'config/model.yaml': `version: ${version}\n` } });
      await core.registry.publishUpload(await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'e2e' });
    }
  } finally {
    await core.close();
  }
  // The repository comes only from depot.yaml (through serve --config); its passphrase from the environment.
  const config = path.join(work, 'depot.yaml');
  writeFileSync(
    config,
    `backup:
  repositories:
    - id: local
      repo: "${pathToFileURL(repoDir).href}"
      passphrase: \${E2E_BACKUP_PASSPHRASE}
      source: { kind: packages, glob: "acme/*" }
      keep: { last: 5 }
`,
  );
  host = await startServe(['--port', '0', '--data-dir', dataDir, '--config', config], { ...process.env, E2E_BACKUP_PASSPHRASE: 'e2e backup passphrase', TORSH_DEPOT_ADMIN_KEY: adminKey });
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await browser?.close();
  temp.cleanup();
});

describe('Backups screen in Chromium', () => {
  it('runs a backup with progress, shows the snapshot and its sizes, previews retention, and restores a yanked version', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1200 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-backups').click();
    expect(await page.getByTestId('not-built').count()).toBe(0);
    await expect.poll(() => page.getByTestId('repository-row').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('repository-row').textContent()).toContain('depot.yaml');

    // Back up now: the job shows files, bytes read and bytes new while it runs, then Done.
    const progressSeen = page.waitForFunction(() => /files · .* read · .* new/.test(document.querySelector('[data-testid="backup-job-status"]')?.textContent ?? ''), undefined, { polling: 'raf', timeout: 60_000 });
    await page.getByRole('button', { name: 'Back up now' }).click();
    await progressSeen;
    await expect.poll(() => page.getByTestId('backup-job-status').textContent(), { timeout: 60_000 }).toBe('Done.');
    await expect.poll(() => page.getByTestId('snapshot-row').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('snapshot-size').first().textContent()).toMatch(/4 files · 48\.\d MiB logical · 48\.\d MiB added/);
    expect(await page.getByTestId('dedup-chart').count()).toBe(1);
    await expect.poll(() => page.locator('[data-testid="run-row"][data-status="succeeded"]').count()).toBe(1);

    // A second run adds nothing new: the ratio climbs.
    await page.getByRole('button', { name: 'Back up now' }).click();
    await expect.poll(() => page.getByTestId('snapshot-row').count(), { timeout: 60_000 }).toBe(2);
    expect(await page.getByTestId('snapshot-size').first().textContent()).toMatch(/48\.\d MiB logical · 0 B added/);
    await expect.poll(() => page.getByTestId('backups-stats').textContent(), { timeout: 15_000 }).toMatch(/ratio 2\.\d\d×/);

    // Retention: the dry run says what would go and why; nothing is removed by the preview.
    const retention = page.getByTestId('retention-editor');
    await retention.getByLabel('keep last').fill('1');
    await retention.getByRole('button', { name: 'Preview (dry run)' }).click();
    await expect.poll(() => page.getByTestId('retention-preview').textContent()).toMatch(/Would keep 1 and remove 1 snapshot\./);
    expect(await page.getByTestId('retention-preview').textContent()).toContain('last snapshot');
    expect(await page.getByTestId('snapshot-row').count()).toBe(2);

    // Yank 1.0.0 through the registry API, then restore it from the snapshot: it is back, not yanked.
    const origin = new URL(host.url).origin;
    const yank = await fetch(`${origin}/api/v1/packages/acme/model/1.0.0/yank`, { method: 'POST', headers: { Authorization: `Bearer ${adminKey}` } });
    expect(yank.status).toBe(200);
    const versionState = async (): Promise<boolean> => ((await (await fetch(`${origin}/api/v1/packages/acme/model/1.0.0`, { headers: { Authorization: `Bearer ${adminKey}` } })).json()) as { yanked: boolean }).yanked;
    expect(await versionState()).toBe(true);
    const newest = page.getByTestId('snapshot-row').first();
    await newest.getByRole('button', { name: /^Restore / }).click();
    const form = page.getByTestId('restore-form');
    await form.getByLabel('Package').fill('acme/model');
    await form.getByLabel('Version').fill('1.0.0');
    await form.getByRole('button', { name: 'Restore version into the registry' }).click();
    await expect.poll(() => page.getByTestId('backup-job').textContent(), { timeout: 15_000 }).toContain('Restore acme/model@1.0.0 from snapshot');
    await expect.poll(() => page.getByTestId('backup-job-status').textContent(), { timeout: 60_000 }).toBe('Done.');
    expect(await versionState()).toBe(false);

    await page.screenshot({ path: screenshotPath('backups'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
