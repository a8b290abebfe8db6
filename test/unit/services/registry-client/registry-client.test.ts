import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DepotError } from '../../../../shared/errors';
import { RegistryClient, normalizeRegistryUrl, type RegistryClientOptions } from '../../../../electron/services/registry-client/registry-client';
import { makeTestPackage } from '../../../support/packages';
import { makeTempDir } from '../../../support/temp-dir';
import { FaultProxy, isDownload, isPublish } from './fault-proxy';
import { startRegistryHost, testAdminKey, type RegistryTestHost } from './registry-test-host';
import { caught } from '../../../support/depot-errors';

const maxPackageBytes = 3 * 1024 * 1024;
let host: RegistryTestHost;
let proxy: FaultProxy;
let work: string;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  host = await startRegistryHost(['--max-package-size', String(maxPackageBytes)]);
  proxy = await FaultProxy.start(host.origin);
  const scratch = makeTempDir();
  cleanups.push(scratch.cleanup);
  work = scratch.dir;
});

afterAll(async () => {
  await proxy?.close();
  await host?.stop();
  for (const cleanup of cleanups.reverse()) cleanup();
});

afterEach(() => proxy.reset());

/** Through the fault proxy, with short backoff so retries cost milliseconds. */
const client = baseClient;
function baseClient(options: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({ baseUrl: proxy.url, apiKey: testAdminKey, retryBaseDelayMs: 5, retryMaxDelayMs: 20, ...options });
}

function sha256(file: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}


/** Publishes straight to the host (not through the proxy) and returns the package file. */
async function published(name: string, version: string, weightBytes = 64 * 1024, description?: string): Promise<string> {
  const file = await makeTestPackage(work, { name, version, files: { 'models/weights.pt': weightBytes, 'config/model.yaml': `name: ${name}\n` }, ...(description ? { description } : {}) });
  await new RegistryClient({ baseUrl: host.origin, apiKey: testAdminKey }).publish(file);
  return file;
}

describe('RegistryClient: metadata calls against the real registry', () => {
  it('normalizes the registry address', () => {
    expect(normalizeRegistryUrl('http://h:1/')).toBe('http://h:1');
    expect(normalizeRegistryUrl('http://h:1/api/v1/')).toBe('http://h:1');
    expect(normalizeRegistryUrl('https://h/depot/')).toBe('https://h/depot');
    expect(() => new RegistryClient({ baseUrl: 'ftp://h' })).toThrow(/http or https/);
    expect(() => new RegistryClient({ baseUrl: 'not a url' })).toThrow(DepotError);
  });

  it('health, getVersion, listVersions, resolve, search, yank and unyank (scoped names included)', async () => {
    await published('vision/quokka', '1.0.0', 1024, 'A scoped marsupial detector');
    await published('vision/quokka', '1.1.0', 1024, 'A scoped marsupial detector');
    await published('vision/quokka', '2.0.0', 1024, 'A scoped marsupial detector');
    const registry = client();

    expect(await registry.health()).toMatchObject({ status: 'ok', version: expect.any(String) });
    const version = await registry.getVersion('vision/quokka', '1.1.0');
    expect(version).toMatchObject({ name: 'vision/quokka', version: '1.1.0', yanked: false, description: 'A scoped marsupial detector' });
    expect(version.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await registry.listVersions('vision/quokka')).versions.map((entry) => entry.version)).toEqual(['2.0.0', '1.1.0', '1.0.0']);
    expect((await registry.resolve('vision/quokka', '^1')).version).toBe('1.1.0');

    expect((await registry.yank('vision/quokka', '1.1.0')).yanked).toBe(true);
    expect((await registry.resolve('vision/quokka', '^1')).version).toBe('1.0.0');
    expect((await registry.unyank('vision/quokka', '1.1.0')).yanked).toBe(false);
    expect((await registry.resolve('vision/quokka', '^1')).version).toBe('1.1.0');

    const found = await registry.search('marsupial', 1, 10);
    expect(found.packages.map((pkg) => pkg.name)).toContain('vision/quokka');
    expect(found).toMatchObject({ page: 1, per_page: 10 });
  });

  it('retries 5xx with backoff and succeeds; gives up after `retries` extra attempts keeping the server message', async () => {
    proxy.failNext(2, 503);
    expect((await client({ retries: 3 }).health()).status).toBe('ok');
    expect(proxy.count()).toBe(3);

    proxy.reset();
    proxy.failNext(10, 503);
    const error = await caught(client({ retries: 2 }).health());
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('injected 503 by the test proxy');
    expect(proxy.count()).toBe(3);
  });

  it('never retries a 4xx: one request each, mapped to the DepotError code with the server message', async () => {
    const registry = client({ retries: 3 });
    const missing = await caught(registry.getVersion('no-such-package', '1.0.0'));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toMatch(/^No package named no-such-package\./);
    expect(proxy.count()).toBe(1);

    proxy.reset();
    const badRange = await caught(registry.resolve('vision/quokka', 'not a range ~~'));
    expect(badRange.code).toBe('VALIDATION_FAILED');
    expect(proxy.count()).toBe(1);

    proxy.reset();
    const wrongKey = await caught(client({ apiKey: 'wrong-key-wrong-key-wrong' }).yank('vision/quokka', '1.0.0'));
    expect(wrongKey.code).toBe('UNAUTHORIZED');
    expect(proxy.count()).toBe(1);
  });

  it('maps a refused connection to UNAVAILABLE after its retries', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await caught(new RegistryClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 2, retryBaseDelayMs: 5 }).health());
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it('times out a registry that never answers (and retries it like a network error)', async () => {
    proxy.holdNext(() => true, 2);
    const started = Date.now();
    const error = await caught(client({ timeoutMs: 300, retries: 1 }).health());
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('no answer within 300 ms');
    expect(proxy.count()).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('cancels a request while it waits', async () => {
    proxy.holdNext();
    const controller = new AbortController();
    const pending = client().health({ signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await caught(pending)).code).toBe('CANCELLED');
  });
});

describe('RegistryClient.publish', () => {
  it('streams a package (progress up to its size), is idempotent for the same bytes, refuses other bytes', async () => {
    const file = await makeTestPackage(work, { name: 'publish-me', version: '1.0.0', files: { 'models/w.pt': 700 * 1024 } });
    const size = statSync(file).size;
    const progress: number[] = [];
    const first = await client().publish(file, { metadata: { tags: ['vision'], description: 'Känguru 🦘 detector' }, onProgress: (sent, total) => {
      expect(total).toBe(size);
      progress.push(sent);
    } });
    expect(first).toEqual({ name: 'publish-me', version: '1.0.0', digest: sha256(file), size, created: true });
    expect(progress.at(-1)).toBe(size);
    expect(progress.length).toBeGreaterThan(1);
    const [put] = proxy.requests.filter(isPublish);
    expect(put?.headers['content-length']).toBe(String(size));
    // Non-Latin-1 metadata travels JSON-escaped in the header and arrives intact.
    expect((await client().getVersion('publish-me', '1.0.0')).description).toBe('Känguru 🦘 detector');

    expect((await client().publish(file)).created).toBe(false);

    proxy.reset();
    const other = await makeTestPackage(work, { name: 'publish-me', version: '1.0.0', files: { 'models/w.pt': 1024 } });
    const conflict = await caught(client({ retries: 3 }).publish(other));
    expect(conflict.code).toBe('CONFLICT');
    expect(proxy.count(isPublish)).toBe(1);
  });

  it('maps 401, 413 and 400 without retrying, and refuses a non-package locally before any request', async () => {
    const file = await makeTestPackage(work, { name: 'guarded-pub', version: '1.0.0' });
    const noKey = await caught(client({ apiKey: null }).publish(file));
    expect(noKey.code).toBe('UNAUTHORIZED');
    expect(proxy.count(isPublish)).toBe(1);

    proxy.reset();
    const big = await makeTestPackage(work, { name: 'too-big', version: '1.0.0', files: { 'models/w.pt': maxPackageBytes + 512 * 1024 } });
    const tooBig = await caught(client().publish(big));
    expect(tooBig.code).toBe('PAYLOAD_TOO_LARGE');
    expect(proxy.count(isPublish)).toBe(1);

    proxy.reset();
    const garbage = path.join(work, 'garbage.torshpkg');
    writeFileSync(garbage, 'this is not a zip file');
    expect((await caught(client().publish(garbage))).code).toBe('INVALID_PACKAGE');
    expect(proxy.count()).toBe(0);
    // Told the name and version, the client sends it and the server refuses it.
    const invalid = await caught(client().publish(garbage, { name: 'garbage', version: '1.0.0' }));
    expect(invalid.code).toBe('INVALID_PACKAGE');
    expect(proxy.count(isPublish)).toBe(1);
  });

  it('retries when the connection drops before any answer', async () => {
    const file = await makeTestPackage(work, { name: 'dropped-once', version: '1.0.0' });
    proxy.dropNext(isPublish);
    const result = await client().publish(file);
    expect(result.created).toBe(true);
    expect(proxy.count(isPublish)).toBe(2);
  });

  it('cancels mid-upload: CANCELLED, nothing published, and the registry removes its partial upload', async () => {
    const file = await makeTestPackage(work, { name: 'cancel-pub', version: '1.0.0', files: { 'models/w.pt': 2 * 1024 * 1024 } });
    const controller = new AbortController();
    const error = await caught(client().publish(file, { signal: controller.signal, onProgress: (sent) => {
      if (sent >= 256 * 1024) controller.abort();
    } }));
    expect(error.code).toBe('CANCELLED');
    expect((await caught(client().getVersion('cancel-pub', '1.0.0'))).code).toBe('NOT_FOUND');
    await expect.poll(() => host.scratchFiles(), { timeout: 5_000 }).toEqual([]);
  });
});

// Every case runs on each download path: fetch (https, redirects), the plain-socket reader (http),
// hashing inline (small packages) or on a worker thread (large ones).
const downloadPaths = [
  { id: 'fetch-inline', label: 'fetch, hashing inline', downloads: { rawHttp: false, workerSinkFromBytes: Number.POSITIVE_INFINITY } },
  { id: 'socket-inline', label: 'socket reader, hashing inline', downloads: { rawHttp: true, workerSinkFromBytes: Number.POSITIVE_INFINITY } },
  { id: 'socket-worker', label: 'socket reader, hashing on a worker', downloads: { rawHttp: true, workerSinkFromBytes: 0 } },
] as const;

describe.each(downloadPaths)('RegistryClient.download ($label)', ({ id, downloads }) => {
  const name = `download-${id}`;
  const client = (options: Partial<RegistryClientOptions> = {}): RegistryClient => baseClient({ downloads, ...options });
  let packageFile: string;
  let digest: string;
  beforeAll(async () => {
    packageFile = await published(name, '1.0.0', 1024 * 1024);
    digest = sha256(packageFile);
  });

  it('round trip: the downloaded bytes are the published bytes, checked against the digest', async () => {
    const dest = path.join(work, id, 'round-trip.torshpkg');
    const progress: Array<[number, number | null]> = [];
    const result = await client().download(name, '1.0.0', dest, { expectedDigest: digest, onProgress: (received, total) => progress.push([received, total]) });
    expect(result).toEqual({ path: dest, digest, size: statSync(packageFile).size, resumedFrom: 0 });
    expect(readFileSync(dest).equals(readFileSync(packageFile))).toBe(true);
    expect(existsSync(`${dest}.partial`)).toBe(false);
    expect(progress.at(-1)).toEqual([result.size, result.size]);
  });

  it('resumes after a cut with Range + If-Range and ends with the right bytes', async () => {
    const dest = path.join(work, id, 'resume-cut.torshpkg');
    proxy.cutBodyNext(300_000);
    const result = await client().download(name, '1.0.0', dest);
    expect(result.digest).toBe(digest);
    expect(readFileSync(dest).equals(readFileSync(packageFile))).toBe(true);
    const downloads = proxy.requests.filter(isDownload);
    expect(downloads).toHaveLength(2);
    expect(downloads[0]?.headers.range).toBeUndefined();
    expect(downloads[1]?.headers.range).toBe('bytes=300000-');
    expect(downloads[1]?.headers['if-range']).toBe(`"${digest}"`);
    expect(downloads[1]?.status).toBe(206);
  });

  it('resumes after a 503, and restarts from 0 when the server answers a range with 200', async () => {
    const dest = path.join(work, id, 'resume-restart.torshpkg');
    proxy.cutBodyNext(200_000);
    proxy.failNext(1, 503, isDownload);
    proxy.stripRangeNext();
    const result = await client().download(name, '1.0.0', dest);
    expect(result.digest).toBe(digest);
    expect(readFileSync(dest).equals(readFileSync(packageFile))).toBe(true);
    const statuses = proxy.requests.filter(isDownload).map((request) => request.status);
    expect(statuses).toEqual([200, 503, 200]);
  });

  it('deletes the file and throws DIGEST_MISMATCH when the bytes do not match', async () => {
    const dest = path.join(work, id, 'corrupt.torshpkg');
    proxy.corruptBodyNext(5_000);
    const corrupt = await caught(client().download(name, '1.0.0', dest));
    expect(corrupt.code).toBe('DIGEST_MISMATCH');
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.partial`)).toBe(false);

    const wrong = await caught(client().download(name, '1.0.0', dest, { expectedDigest: `sha256:${'0'.repeat(64)}` }));
    expect(wrong.code).toBe('DIGEST_MISMATCH');
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.partial`)).toBe(false);
  });

  it('never retries a 404 and leaves no partial file', async () => {
    const dest = path.join(work, id, 'missing.torshpkg');
    const error = await caught(client({ retries: 3 }).download(name, '9.9.9', dest));
    expect(error.code).toBe('NOT_FOUND');
    expect(proxy.count(isDownload)).toBe(1);
    expect(existsSync(`${dest}.partial`)).toBe(false);
  });

  it('a cancelled download keeps its .partial, and the next download resumes from it', async () => {
    const dest = path.join(work, id, 'cancel-resume.torshpkg');
    proxy.stallBodyNext(400_000);
    const controller = new AbortController();
    const error = await caught(client().download(name, '1.0.0', dest, { expectedDigest: digest, signal: controller.signal, onProgress: (received) => {
      if (received >= 400_000) controller.abort();
    } }));
    expect(error.code).toBe('CANCELLED');
    expect(statSync(`${dest}.partial`).size).toBe(400_000);
    expect(existsSync(dest)).toBe(false);

    proxy.reset();
    const result = await client().download(name, '1.0.0', dest, { expectedDigest: digest });
    expect(result).toMatchObject({ digest, resumedFrom: 400_000 });
    expect(readFileSync(dest).equals(readFileSync(packageFile))).toBe(true);
    expect(proxy.requests.filter(isDownload).map((request) => request.headers.range)).toEqual(['bytes=400000-']);
    expect(existsSync(`${dest}.partial`)).toBe(false);
  });
});

describe('RegistryClient.download behind a redirect', () => {
  it('follows a redirect (presigned URL, CDN) on the socket-reader path by handing over to fetch', async () => {
    const file = await published('redirected', '1.0.0', 256 * 1024);
    // fetch drops Authorization on a cross-origin redirect (as a presigned URL expects): make the package public.
    const made = await fetch(`${host.origin}/api/v1/packages/redirected`, { method: 'PATCH', headers: { Authorization: `Bearer ${testAdminKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ visibility: 'public' }) });
    expect(made.status).toBe(200);
    const redirects: string[] = [];
    const redirector = http.createServer((request, response) => {
      redirects.push(request.url ?? '');
      response.writeHead(302, { Location: `${host.origin}${request.url ?? '/'}`, 'Content-Length': 0 });
      response.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
      const dest = path.join(work, 'redirected.torshpkg');
      const result = await new RegistryClient({ baseUrl: origin, apiKey: testAdminKey, downloads: { rawHttp: true, workerSinkFromBytes: 0 } }).download('redirected', '1.0.0', dest, { expectedDigest: sha256(file) });
      expect(result.digest).toBe(sha256(file));
      expect(readFileSync(dest).equals(readFileSync(file))).toBe(true);
      // Once by the socket reader (which declines the 302), once by fetch (which follows it).
      expect(redirects).toEqual(['/api/v1/packages/redirected/1.0.0/download', '/api/v1/packages/redirected/1.0.0/download']);
    } finally {
      redirector.closeAllConnections();
      await new Promise((resolve) => redirector.close(resolve));
    }
  });
});
