import { createReadStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createCore } from '../../electron/services/composition-root';
import { silentLogger } from '../../electron/services/logger';
import { receiveUpload } from '../../electron/services/registry/upload-receiver';
import { startServe, type ServingHost } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';
import { makeTestPackage } from '../support/packages';
import { freePort } from '../support/nginx-server';
import { startVarnishEdge, type VarnishEdge } from '../support/varnish-edge';
import { launchChromium, screenshotPath } from './support/browser';

const purgeToken = 'e2e-purge-token-never-on-screen';
let browser: Browser;
let host: ServingHost;
const edges: VarnishEdge[] = [];
const temp = makeTempDir('torsh-depot-e2e-cdn-');
const dataDir = path.join(temp.dir, 'data');
const work = path.join(temp.dir, 'work');

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  // The edges front serve (the origin) on the port it will take; Varnish starts with its backend still down.
  const port = await freePort();
  [browser] = await Promise.all([launchChromium()]);
  edges.push(
    await startVarnishEdge({ edgeId: 'edge-eu', originHost: '127.0.0.1', originPort: port, purgeToken }),
    await startVarnishEdge({ edgeId: 'edge-us', originHost: '127.0.0.1', originPort: port, purgeToken }),
  );
  const config = path.join(work, 'depot.yaml');
  writeFileSync(
    config,
    `cdn:
  provider: varnish
  origin: { storage: registry }
  http_purge: { purge_token: "\${E2E_CDN_PURGE_TOKEN}" }
  health_check_interval: 1h
  health: { failures_to_down: 1, successes_to_up: 1, timeout: 3s, degraded_latency: 3s }
  routing: { min_size: 1KB }
  edges:
    - { id: edge-eu, region: eu-central-1, endpoint: "${edges[0]!.endpoint}", capacity_gbps: 10 }
    - { id: edge-us, region: us-east-1, endpoint: "${edges[1]!.endpoint}", capacity_gbps: 40 }
`,
  );
  const core = createCore({ dataDir, shell: 'headless', logger: silentLogger });
  try {
    core.access.configureDefaultVisibility('public');
    const file = await makeTestPackage(work, { name: 'resnet', version: '1.0.0', files: { 'models/weights.bin': 64 * 1024 } });
    await core.registry.publishUpload(await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'e2e' });
  } finally {
    await core.close();
  }
  host = await startServe(['--port', String(port), '--data-dir', dataDir, '--config', config], { ...process.env, E2E_CDN_PURGE_TOKEN: purgeToken });
});

afterAll(async () => {
  await host?.stop();
  await browser?.close();
  await Promise.all(edges.map((edge) => edge.stop()));
  temp.cleanup();
});

const edgeRow = (page: Page, id: string) => page.locator(`[data-testid="cdn-edge-row"][data-edge="${id}"]`);

describe('CDN screen in Chromium against serve --config with two Varnish edges', () => {
  it('shows the settings with the secret masked, probes the edges, tests a region, purges a version, uploads one to the origin and refuses a bad section', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1400 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(host.url);
    await expect.poll(() => page.getByTestId('host-status').textContent(), { timeout: 15_000 }).toMatch(/Host: ok/);
    await page.getByTestId('nav-cdn').click();
    await expect.poll(() => page.getByTestId('cdn-edge-row').count(), { timeout: 15_000 }).toBe(2);
    expect(await page.getByTestId('not-built').count()).toBe(0);

    // Settings from depot.yaml: the provider, and the token only as its masked reference.
    expect(await page.getByTestId('cdn-provider').inputValue()).toBe('varnish');
    expect(await page.getByTestId('cdn-origin-storage').inputValue()).toBe('registry');
    expect(await page.getByTestId('cdn-secret-masked').textContent()).toBe('${E2E_CDN_PURGE_TOKEN} ••••••••');
    expect(await page.content()).not.toContain(purgeToken);

    await page.getByRole('button', { name: 'Check edges' }).click();
    await expect.poll(() => edgeRow(page, 'edge-eu').getAttribute('data-status'), { timeout: 15_000 }).toBe('healthy');
    await expect.poll(() => edgeRow(page, 'edge-us').getAttribute('data-status')).toBe('healthy');

    // "Test from region X": Frankfurt gets the EU edge, with every edge's score parts and why.
    await page.getByTestId('cdn-test-name').fill('resnet');
    await page.getByTestId('cdn-test-version').fill('1.0.0');
    await page.getByTestId('cdn-test-region').fill('eu-central-1');
    await page.getByRole('button', { name: 'Choose an edge' }).click();
    await expect.poll(() => page.getByTestId('cdn-chosen-edge').textContent()).toBe('edge-eu');
    expect(await page.getByTestId('cdn-score-row').count()).toBe(2);
    expect(await page.getByTestId('cdn-region-answer').textContent()).toMatch(/from region/);

    // Warm the EU edge, purge the version: per-target results, and the edge answers MISS again.
    const url = `${edges[0]!.endpoint}/api/v1/packages/resnet/1.0.0/download`;
    await (await fetch(url)).arrayBuffer();
    expect((await fetch(url)).headers.get('x-cache')).toBe('HIT');
    await page.getByTestId('cdn-purge-target').fill('resnet@1.0.0');
    await page.getByRole('button', { name: 'Purge', exact: true }).click();
    await expect.poll(() => page.getByTestId('cdn-purge-result').count(), { timeout: 15_000 }).toBe(4);
    expect(await page.getByTestId('cdn-purge-result').evaluateAll((items) => items.map((item) => item.getAttribute('data-ok')))).toEqual(['true', 'true', 'true', 'true']);
    expect(await page.getByTestId('cdn-purge-summary').textContent()).toMatch(/^4 of 4 purged/);
    const after = await fetch(url);
    await after.arrayBuffer();
    expect(after.headers.get('x-cache')).toBe('MISS');

    // Charts are drawn from the statistics (nothing counted by this host yet: zero points).
    expect(await page.getByTestId('cdn-hit-rate-chart').count()).toBe(1);
    expect(await page.getByTestId('cdn-edge-bytes-chart').count()).toBe(1);

    // Upload to origin: refused while serve is the origin; on a file origin a job with progress, then the objects written.
    await page.getByTestId('cdn-upload-target').fill('resnet@1.0.0');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await expect.poll(() => page.getByTestId('cdn-upload-error').textContent()).toMatch(/serve is the origin/);
    const originDir = path.join(temp.dir, 'origin');
    mkdirSync(originDir, { recursive: true });
    await page.getByTestId('cdn-origin-storage').fill(pathToFileURL(originDir).href);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('cdn-origin-storage').inputValue(), { timeout: 15_000 }).toBe(pathToFileURL(originDir).href);
    await page.getByTestId('cdn-upload-target').fill('resnet@1.0.0');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await expect.poll(() => page.getByTestId('cdn-upload-job').getAttribute('data-status'), { timeout: 30_000 }).toBe('succeeded');
    expect(await page.getByTestId('cdn-upload-status').textContent()).toMatch(/^Uploaded \d+ objects\.$/);
    const keys = await page.getByTestId('cdn-upload-object').evaluateAll((items) => items.map((item) => item.textContent ?? ''));
    expect(keys.some((text) => text.includes('packages/resnet/1.0.0/resnet-1.0.0.torshpkg') && text.includes('immutable'))).toBe(true);
    expect(existsSync(path.join(originDir, 'packages', 'resnet', '1.0.0', 'resnet-1.0.0.torshpkg'))).toBe(true);

    // A bad section is refused with the field, and nothing changes.
    await page.getByTestId('cdn-rest').fill('edges:\n  - { id: Bad_Id, region: x, endpoint: "http://127.0.0.1:1" }\n');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('cdn-settings-error').textContent()).toMatch(/cdn\.edges\.0\.id/);
    expect(await page.getByTestId('cdn-edge-row').count()).toBe(2);
    if (process.env.TORSH_DEPOT_DOCS_SCREENSHOTS === '1') await page.screenshot({ path: screenshotPath('cdn'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
