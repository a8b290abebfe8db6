import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { makeTempDir } from '../support/temp-dir';
import { launchChromium } from './support/browser';
import { startHost, stopAllHosts } from './support/host-process';

/**
 * Issue 13 item 10 in Chromium against `torsh-depot serve`: the page reads `?token=` once and
 * removes it from the address bar (history.replaceState); the session cookie is named per port.
 */

let browser: Browser | undefined;
const data = makeTempDir('torsh-depot-e2e-token-');

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await stopAllHosts();
  await browser?.close();
  data.cleanup();
});

describe('the session token in the browser', () => {
  it('leaves the address bar without the token (replaced, not pushed), keeps working after reload, and sets a per-port cookie', async () => {
    if (!browser) throw new Error('Chromium did not start');
    const host = await startHost({ dataDir: data.dir });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${host.origin}/?token=${encodeURIComponent(host.token)}#/storage`);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);

    // The address bar: no token, the screen (hash) kept.
    expect(page.url()).not.toContain('token');
    expect(page.url()).not.toContain(host.token);
    expect(new URL(page.url()).hash).toBe('#/storage');
    expect(await page.evaluate(() => window.location.search)).toBe('');
    // Navigating (the navigation store writes the URL) does not bring it back.
    await page.getByTestId('nav-packages').click();
    await expect.poll(() => page.url()).toContain('#/packages');
    expect(page.url()).not.toContain(host.token);

    // A reload still connects: the tab kept the token in sessionStorage, not in the URL.
    await page.reload();
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    expect(page.url()).not.toContain(host.token);

    // The cookie is this port's, HTTP-only and strict; no unsuffixed cookie another local service could receive.
    const cookies = await context.cookies(host.origin);
    expect(cookies.map((cookie) => cookie.name)).toEqual([`torsh_depot_session_${host.port}`]);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', value: host.token });
    await context.close();
  }, 60_000);
});
