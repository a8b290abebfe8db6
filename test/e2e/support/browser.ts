import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startServe, type ServingHost } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { projectRoot } from './host-process';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const screenshotDir = path.join(projectRoot, 'test-results');

/** Debian's Chromium, headless, with the flags this closed network needs. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath}: apt-get install chromium (the CI script does).`);
  if (!existsSync(path.join(projectRoot, 'dist', 'renderer', 'index.html'))) throw new Error('dist/renderer is missing: run `npm run build` first.');
  mkdirSync(screenshotDir, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export function screenshotPath(name: string): string {
  return path.join(screenshotDir, `screenshot-${name}.png`);
}

export interface BrowserAndHost {
  readonly browser: Browser;
  readonly host: ServingHost;
  /** A scratch folder for the test's packages. */
  readonly workDir: string;
}

/** One Chromium and one `serve` on a fresh data folder for a test file, stopped and removed after it. */
export function useBrowserAndHost(label: string): BrowserAndHost {
  const data = makeTempDir(`torsh-depot-e2e-${label}-`);
  const work = makeTempDir(`torsh-depot-e2e-${label}-work-`);
  let browser: Browser | undefined;
  let host: ServingHost | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
    host = await startServe(['--port', '0', '--data-dir', data.dir]);
  });
  afterAll(async () => {
    await host?.stop();
    await browser?.close();
    data.cleanup();
    work.cleanup();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started yet (use it inside a test)`);
    return value;
  };
  return {
    get browser() {
      return started(browser, 'Chromium');
    },
    get host() {
      return started(host, 'The host');
    },
    workDir: work.dir,
  };
}
