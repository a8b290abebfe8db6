import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServingHost } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';
import { launchChromium, screenshotPath } from './support/browser';

const screens = [
  ['packages', 'Packages', false],
  ['deploy', 'Deploy', true],
  ['storage', 'Storage', true],
  ['mirrors', 'Mirrors', true],
  ['cdn', 'CDN', true],
  ['replication', 'Replication', true],
  ['backups', 'Backups', true],
  ['access', 'Access', true],
  ['metrics', 'Metrics', true],
  ['settings', 'Settings', false],
] as const;

let browser: Browser;
let host: ServingHost | undefined;
const data = makeTempDir('torsh-depot-e2e-');

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await host?.stop();
  await browser?.close();
  data.cleanup();
});

async function openApp(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto(url);
  await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
  return page;
}

async function progressOf(page: Page): Promise<number | null> {
  const bar = page.getByTestId('check-progress').getByRole('progressbar');
  if ((await bar.count()) === 0) return null;
  const value = await bar.getAttribute('aria-valuenow').catch(() => null);
  return value === null ? null : Number(value);
}

describe('app shell in Chromium against torsh-depot serve', () => {
  it('visits every screen, runs and cancels real jobs, keeps history across a restart', async () => {
    host = await startServe(['--port', '0', '--data-dir', data.dir]);
    const page = await openApp(host.url);

    for (const [id, title, notBuilt] of screens) {
      await page.getByTestId(`nav-${id}`).click();
      await expect.poll(() => page.getByTestId('screen-title').textContent()).toBe(title);
      expect(await page.getByTestId(`nav-${id}`).getAttribute('aria-current')).toBe('page');
      expect(await page.getByTestId('not-built').count()).toBe(notBuilt ? 1 : 0);
      await page.screenshot({ path: screenshotPath(id) });
    }

    // Keyboard: the active entry is the sidebar's tab stop; arrows move, Enter opens.
    await page.getByTestId('nav-settings').focus();
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('screen-title').textContent()).toBe('Access');
    await page.getByTestId('nav-access').focus();
    await page.keyboard.press('End');
    await page.keyboard.press(' ');
    await expect.poll(() => page.getByTestId('screen-title').textContent()).toBe('Settings');

    // Bad input gets a clear message and starts nothing.
    await page.getByTestId('check-size').fill('0');
    await page.getByTestId('start-check').click();
    expect(await page.getByTestId('check-size-error').textContent()).toContain('1 to 16384');

    // A real long job: watch its progress move, then its result.
    await page.getByTestId('check-size').fill('1024');
    await page.getByTestId('start-check').click();
    const seen = new Set<number>();
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && (await page.getByTestId('check-result').count()) === 0) {
      const value = await progressOf(page);
      if (value !== null) seen.add(value);
      await page.waitForTimeout(40);
    }
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(await page.getByTestId('check-result').textContent()).toMatch(/Integrity ok.*Write.*\/s.*Read.*\/s/);
    await page.screenshot({ path: screenshotPath('settings-check') });

    // Another one, cancelled from the status bar.
    await page.getByTestId('check-size').fill('16384');
    await page.getByTestId('start-check').click();
    await expect.poll(() => progressOf(page), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.getByTestId('status-job-cancel').first().click();
    await expect.poll(() => page.getByTestId('status-job').count(), { timeout: 30_000 }).toBe(0);

    // Sockets without the token, or with a wrong one, are refused: try from a context that never
    // received the session cookie (a page of the same origin that was refused).
    const stranger = await browser.newContext();
    const strangerPage = await stranger.newPage();
    await strangerPage.goto(new URL(host.url).origin);
    const refusals = await strangerPage.evaluate(async () => {
      const attempt = (url: string): Promise<string> =>
        new Promise((resolve) => {
          const socket = new WebSocket(url);
          socket.onopen = () => {
            socket.close();
            resolve('open');
          };
          socket.onerror = () => resolve('refused');
        });
      return [await attempt(`ws://${location.host}/ws`), await attempt(`ws://${location.host}/ws?token=wrong`)];
    });
    expect(refusals).toEqual(['refused', 'refused']);
    await stranger.close();

    // Dark theme.
    await page.locator('label', { has: page.getByTestId('theme-dark') }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.screenshot({ path: screenshotPath('dark') });
    await page.locator('label', { has: page.getByTestId('theme-light') }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.close();

    // Restart the host on the same data folder: both jobs are in the history.
    expect(await host.stop()).toBe(0);
    host = await startServe(['--port', '0', '--data-dir', data.dir]);
    const again = await openApp(host.url);
    await again.keyboard.press('Control+j');
    await expect.poll(() => again.getByTestId('job-row').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const statuses = await again.getByTestId('job-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-status')));
    expect(statuses).toEqual(expect.arrayContaining(['succeeded', 'cancelled']));
    await again.screenshot({ path: screenshotPath('jobs') });
    await again.close();
  });

  it('shows a clear page without the session token', async () => {
    if (!host) throw new Error('host not started');
    const page = await browser.newPage();
    const response = await page.goto(new URL(host.url).origin);
    expect(response?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('open the URL printed by `torsh-depot serve`');
    await page.close();
  });
});
