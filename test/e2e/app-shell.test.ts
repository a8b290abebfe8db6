import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeTempDir } from '../support/temp-dir';
import { launchChromium, screenshotPath } from './support/browser';
import { startHost, stopAllHosts, type HostProcess } from './support/host-process';

/** Sidebar entries: id, heading, and whether the screen must say its capability is not built yet. */
const screens = [
  ['packages', 'Packages', false],
  ['deploy', 'Deploy', true],
  ['storage', 'Storage', false],
  ['mirrors', 'Mirrors', false],
  ['cdn', 'CDN', false],
  ['replication', 'Replication', false],
  ['backups', 'Backups', false],
  ['access', 'Access', false],
  ['metrics', 'Metrics', false],
  ['settings', 'Settings', false],
] as const;

const viewport = { width: 1360, height: 860 };
let browser: Browser | undefined;
let context: BrowserContext | undefined;
const data = makeTempDir('torsh-depot-e2e-shell-');

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  // Runs even when a test failed: no host or browser outlives the run.
  await stopAllHosts();
  await context?.close();
  await browser?.close();
  data.cleanup();
});

function requireBrowser(): Browser {
  if (!browser) throw new Error('Chromium did not start');
  return browser;
}

async function waitForHostOk(page: Page): Promise<void> {
  await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok · v\d+\.\d+\.\d+ · headless/);
}

async function screenTitle(page: Page): Promise<string | null> {
  return page.getByTestId('screen-title').textContent();
}

/** The data-testid (or text) of whatever has keyboard focus. */
async function focused(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    return element?.dataset.testid ?? element?.textContent?.trim() ?? null;
  });
}

async function checkProgress(page: Page): Promise<number | null> {
  const bar = page.getByTestId('check-progress').getByRole('progressbar');
  if ((await bar.count()) === 0) return null;
  const value = await bar.getAttribute('aria-valuenow').catch(() => null);
  return value === null ? null : Number(value);
}

async function statusBarProgress(page: Page): Promise<number> {
  const value = await page.getByTestId('status-job').first().getByRole('progressbar').getAttribute('aria-valuenow').catch(() => null);
  return value === null ? -1 : Number(value);
}

describe('app shell in Chromium against torsh-depot serve', () => {
  it('navigates every screen, runs and cancels real jobs, survives a host restart', async () => {
    let host: HostProcess = await startHost({ dataDir: data.dir });
    context = await requireBrowser().newContext({ viewport });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(host.url);
    await waitForHostOk(page);

    // Every sidebar entry opens its screen; unbuilt capabilities say so instead of showing fake data.
    for (const [id, title, notBuilt] of screens) {
      await page.getByTestId(`nav-${id}`).click();
      await expect.poll(() => screenTitle(page)).toBe(title);
      expect(await page.getByTestId(`nav-${id}`).getAttribute('aria-current')).toBe('page');
      const notice = page.getByTestId('not-built');
      expect(await notice.count()).toBe(notBuilt ? 1 : 0);
      if (notBuilt) expect(await notice.textContent()).toMatch(/Not built yet.{40,}/);
      await page.screenshot({ path: screenshotPath(id) });
    }

    // Keyboard only: Tab reaches the skip link, then the sidebar's single tab stop (the active entry).
    await page.reload();
    await waitForHostOk(page);
    expect(await screenTitle(page)).toBe('Settings');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('nav-settings');
    const ring = await page.getByTestId('nav-settings').evaluate((element) => getComputedStyle(element).outlineStyle);
    expect(ring).not.toBe('none');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    expect(await focused(page)).toBe('nav-access');
    await page.keyboard.press('Enter');
    await expect.poll(() => screenTitle(page)).toBe('Access');
    expect(await focused(page)).toBe('screen-title');
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toBe('nav-access');
    await page.keyboard.press('End');
    await page.keyboard.press(' ');
    await expect.poll(() => screenTitle(page)).toBe('Settings');
    expect(await page.getByTestId('nav-settings').getAttribute('aria-current')).toBe('page');
    await page.getByText('Skip to content').focus();
    await page.keyboard.press('Enter');
    expect(await focused(page)).toBe('screen-title');

    // Settings shows the real data folder of this host.
    await expect.poll(() => page.getByTestId('data-dir').textContent()).toBe(data.dir);

    // Bad sizes get a clear inline message and start nothing.
    for (const bad of ['0', '16385', '1.5', 'lots']) {
      await page.getByTestId('check-size').fill(bad);
      await page.getByTestId('start-check').click();
      expect(await page.getByTestId('check-size-error').textContent()).toContain('1 to 16384');
    }
    expect(await page.getByTestId('check-progress').count()).toBe(0);

    // A real data folder check: its progress bar moves, then the measured throughput shows.
    await page.getByTestId('check-size').fill('512');
    await page.getByTestId('start-check').click();
    expect(await page.getByTestId('check-size-error').count()).toBe(0);
    const seen = new Set<number>();
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && (await page.getByTestId('check-result').count()) === 0) {
      const value = await checkProgress(page);
      if (value !== null) seen.add(value);
      await page.waitForTimeout(30);
    }
    expect(seen.size, `progress values seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(await page.getByTestId('check-result').textContent()).toMatch(/Integrity ok.*Write[\d.]+ [KMG]?i?B\/s.*Read[\d.]+ [KMG]?i?B\/s/);
    await page.screenshot({ path: screenshotPath('settings') });

    // A bigger one, cancelled from the status bar while it runs.
    await page.getByTestId('check-size').fill('8192');
    await page.getByTestId('start-check').click();
    await expect.poll(() => statusBarProgress(page), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await page.getByTestId('status-job').first().textContent()).toContain('Data folder check (8192 MiB)');
    await page.screenshot({ path: screenshotPath('status-bar-job') });
    await page.getByTestId('status-job-cancel').first().click();
    await expect.poll(() => page.getByTestId('status-job').count(), { timeout: 30_000 }).toBe(0);

    // Sockets without the token or with a wrong one are refused. The app's own page carries the
    // session cookie, so the token-less attempt runs in a fresh context that never received it.
    const attemptSockets = (urls: string[]): Promise<string[]> =>
      Promise.all(
        urls.map(
          (url) =>
            new Promise<string>((resolve) => {
              const socket = new WebSocket(url);
              socket.onopen = () => {
                socket.close();
                resolve('open');
              };
              socket.onerror = () => resolve('refused');
            }),
        ),
      );
    const wsBase = `ws://${new URL(host.url).host}/ws`;
    expect(await page.evaluate(attemptSockets, [`${wsBase}?token=wrong`, `${wsBase}?token=${host.token}`])).toEqual(['refused', 'open']);
    const stranger = await requireBrowser().newContext();
    const strangerPage = await stranger.newPage();
    const refusedPage = await strangerPage.goto(host.origin);
    expect(refusedPage?.status()).toBe(401);
    expect(await strangerPage.textContent('body')).toContain('open the URL printed by `torsh-depot serve`');
    expect(await strangerPage.evaluate(attemptSockets, [wsBase, `${wsBase}?token=wrong`])).toEqual(['refused', 'refused']);
    await stranger.close();

    // Themes: dark and light by choice, 'system' follows prefers-color-scheme.
    const theme = (): Promise<string | undefined> => page.evaluate(() => document.documentElement.dataset.theme);
    await page.locator('label', { has: page.getByTestId('theme-dark') }).click();
    await expect.poll(theme).toBe('dark');
    await page.screenshot({ path: screenshotPath('dark') });
    await page.locator('label', { has: page.getByTestId('theme-light') }).click();
    await expect.poll(theme).toBe('light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('label', { has: page.getByTestId('theme-system') }).click();
    await expect.poll(theme).toBe('dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(theme).toBe('light');

    // Job history limit: validated inline, saved with Enter (checked again after the restart).
    await page.getByTestId('history-limit').fill('5');
    expect(await page.getByText('Enter a whole number from 10 to 100000.').count()).toBe(1);
    await page.getByTestId('history-limit').fill('50');
    await page.getByTestId('history-limit').press('Enter');
    await expect.poll(() => page.evaluate(() => document.querySelectorAll('[aria-invalid="true"]').length)).toBe(0);
    // Saved before the host is stopped below (on a loaded machine the request can still be in flight).
    await expect.poll(() => (JSON.parse(readFileSync(path.join(data.dir, 'settings.json'), 'utf8')) as { jobHistoryLimit?: number }).jobHistoryLimit, { timeout: 15_000 }).toBe(50);

    // The host goes away: the status bar says so while the page keeps trying.
    const port = host.port;
    expect(await host.stop()).toBe(0);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toBe('Host: Disconnected — reconnecting…');
    await page.screenshot({ path: screenshotPath('disconnected') });

    // It comes back on the same port and data folder with a new token: the page notices its token is stale.
    host = await startHost({ dataDir: data.dir, port });
    await expect.poll(() => page.getByTestId('session-invalid').count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByTestId('host-status').textContent()).toContain('Not authorized');
    await page.screenshot({ path: screenshotPath('session-invalid') });

    // Opening the new URL reconnects; the history of both jobs survived the restart.
    await page.goto(host.url);
    await waitForHostOk(page);
    await page.keyboard.press('Control+j');
    await expect.poll(() => page.getByTestId('job-row').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const rows = await page.getByTestId('job-row').evaluateAll((elements) => elements.map((row) => `${row.getAttribute('data-status')}: ${row.textContent ?? ''}`));
    // The start-up blob garbage collection is listed too: look at the data folder checks only.
    const checks = rows.filter((row) => row.includes('Data folder check'));
    expect(checks.find((row) => row.startsWith('succeeded:'))).toContain('Data folder check (512 MiB)');
    expect(checks.find((row) => row.startsWith('cancelled:'))).toContain('Data folder check (8192 MiB)');
    await page.screenshot({ path: screenshotPath('jobs') });

    // A reload of the URL without the token still works: the tab kept it in sessionStorage.
    await page.goto(`${host.origin}/#/settings`);
    await waitForHostOk(page);
    await expect.poll(() => screenTitle(page)).toBe('Settings');
    await expect.poll(() => page.getByTestId('history-limit').inputValue()).toBe('50');

    // A new tab without the token (even with the session cookie) explains where the right URL is.
    const bare = await context.newPage();
    await bare.goto(host.origin);
    expect(await bare.getByTestId('no-session').textContent()).toContain('Open the URL printed by torsh-depot serve');
    await bare.close();

    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
