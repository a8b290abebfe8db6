import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdnBlobKey, cdnIndexKey, cdnSectionSchema, cdnSignatureKey, versionSurrogateKey, packageSurrogateKey } from '../../../shared/domain/cdn';
import { uploadToOrigin } from '../../../electron/services/cdn/cdn-origin';
import { registryPackageSource } from '../../../electron/services/cdn/registry-package-source';
import { HttpPurgeProvider } from '../../../electron/services/cdn/providers/http-purge-provider';
import { runPurge } from '../../../electron/services/cdn/cdn-purger';
import { openDatabase } from '../../../electron/services/database/open-database';
import { migrations } from '../../../electron/services/database/migrations';
import { SqliteCdnStatsRepository } from '../../../electron/services/cdn/cdn-stats-repository';
import { cacheOutcomeOf } from '../../../electron/services/cdn/cache-outcome';
import { RegistryClient } from '../../../electron/services/registry-client/registry-client';
import { S3Storage } from '../../../electron/services/storage/s3-storage';
import { startS3rver, s3rverCredentials, type RunningServer } from '../../support/object-servers';
import { runCliProcess, startServe, type ServingHost } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';
import { startVarnishEdge, type VarnishEdge } from '../../support/varnish-edge';

const run = promisify(execFile);
const adminKey = 'cdn-admin-key-0123456789abcdef';
const bucketName = 'cdn-origin';
const retry = { max_retries: 2, base_delay: 10, max_delay: 50 };

let s3: RunningServer;
let host: ServingHost;
let registry: string;
let work: { dir: string; cleanup: () => void };
let packageFile: string;
const edges: VarnishEdge[] = [];

function origin(): S3Storage {
  return new S3Storage({ bucket: bucketName, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3rverCredentials, streamedChecksums: false });
}

const section = cdnSectionSchema.parse({
  provider: 'varnish',
  origin: { storage: `s3://${bucketName}?endpoint=http://127.0.0.1:1&path_style=true`, public: true },
  edges: [{ id: 'edge-a', region: 'eu-west-1', endpoint: 'http://127.0.0.1:1' }],
});

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** `curl -I`: the headers an independent client sees. */
async function curlHead(url: string): Promise<Record<string, string>> {
  const { stdout } = await run('curl', ['-sS', '-I', url]);
  return Object.fromEntries(
    stdout
      .split('\r\n')
      .slice(1)
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
}

beforeAll(async () => {
  work = makeTempDir('torsh-cdn-varnish-');
  s3 = await startS3rver([bucketName]);
  host = await startServe(['--port', '0', '--data-dir', `${work.dir}/data`, '--default-visibility', 'public'], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  registry = new URL(host.url).origin;
  packageFile = await makeTestPackage(work.dir, { name: 'vision/resnet', version: '1.0.0', files: { 'models/weights.pt': 2 * 1024 * 1024 } });
  const secretFile = await makeTestPackage(work.dir, { name: 'secret-model', version: '1.0.0' });
  for (const file of [packageFile, secretFile]) {
    const published = await runCliProcess(['publish', file, '--registry', registry, '--api-key', adminKey]);
    expect(published.code, published.stderr).toBe(0);
  }
  const patched = await fetch(`${registry}/api/v1/packages/secret-model`, { method: 'PATCH', headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ visibility: 'private' }) });
  expect(patched.status).toBe(200);
  const s3Port = Number(new URL(s3.endpoint).port);
  const servePort = Number(new URL(registry).port);
  edges.push(
    await startVarnishEdge({ edgeId: 'edge-a', originHost: '127.0.0.1', originPort: s3Port, originPathPrefix: `/${bucketName}` }),
    await startVarnishEdge({ edgeId: 'edge-b', originHost: '127.0.0.1', originPort: s3Port, originPathPrefix: `/${bucketName}` }),
    await startVarnishEdge({ edgeId: 'edge-serve', originHost: '127.0.0.1', originPort: servePort }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(edges.map((edge) => edge.stop()));
  await host?.stop();
  await s3?.stop();
  work?.cleanup();
});

describe('CDN origin on s3rver behind two Varnish edges', () => {
  it('uploads under versioned keys with the policy Cache-Control, and refuses a private package on a public origin', async () => {
    const source = registryPackageSource(new RegistryClient({ baseUrl: registry, apiKey: adminKey }), new RegistryClient({ baseUrl: registry, apiKey: null }));
    const refused = uploadToOrigin(source, origin(), section, 'secret-model', '1.0.0', { tmpDir: work.dir });
    await expect(refused).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'cdn-private-on-public-origin' });
    expect(await origin().head(cdnBlobKey('secret-model', '1.0.0'))).toBeNull();

    // The CLI, as an operator runs it: origin from the config, keys from the environment.
    const config = path.join(work.dir, 'depot.yaml');
    writeFileSync(config, `cdn:\n  provider: varnish\n  origin:\n    storage: "s3://${bucketName}?endpoint=${s3.endpoint}&path_style=true"\n  edges:\n    - { id: edge-a, region: eu-west-1, endpoint: "http://127.0.0.1:1" }\n`);
    const env = { ...process.env, AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey };
    const cliRefused = await runCliProcess(['cdn', 'upload', 'secret-model@1.0.0', '--config', config, '--registry', registry, '--api-key', adminKey], env);
    expect(cliRefused.code).toBe(1);
    expect(cliRefused.stderr).toContain('secret-model@1.0.0 is private');
    const uploaded = await runCliProcess(['cdn', 'upload', 'vision/resnet@1.0.0', '--config', config, '--registry', registry, '--api-key', adminKey, '--json'], env);
    expect(uploaded.code, uploaded.stderr).toBe(0);
    const result = JSON.parse(uploaded.stdout) as { visibility: string; objects: { key: string; policy: string }[] };
    expect(result.visibility).toBe('public');
    expect(result.objects.map((object) => [object.key, object.policy])).toEqual([
      [cdnBlobKey('vision/resnet', '1.0.0'), 'immutable'],
      [cdnIndexKey('vision/resnet'), 'short'],
    ]);
    const blob = await curlHead(`${s3.endpoint}/${bucketName}/${cdnBlobKey('vision/resnet', '1.0.0')}`);
    expect(blob['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(blob['x-amz-meta-surrogate-key']).toBe('torsh torsh-pkg-vision__resnet torsh-pkg-vision__resnet-v1.0.0');
    expect(Number(blob['content-length'])).toBe(readFileSync(packageFile).length);
    const index = await curlHead(`${s3.endpoint}/${bucketName}/${cdnIndexKey('vision/resnet')}`);
    expect(index['cache-control']).toBe('public, max-age=60, stale-while-revalidate=30, stale-if-error=86400');
    // With a signed-URL scheme configured, the private package goes up, never cached by shared caches.
    const signed = cdnSectionSchema.parse({ ...section, cloudflare: { zone_id: 'z1', api_token: '${T}', token_auth_secret: '${S}' }, signed_urls: { scheme: 'cloudflare-token' } });
    const privateResult = await uploadToOrigin(source, origin(), signed, 'secret-model', '1.0.0', { tmpDir: work.dir });
    expect(privateResult.objects.every((object) => object.cacheControl === 'no-store')).toBe(true);
    expect((await curlHead(`${s3.endpoint}/${bucketName}/${cdnBlobKey('secret-model', '1.0.0')}`))['cache-control']).toBe('no-store');
    expect(await origin().head(cdnSignatureKey('vision/resnet', '1.0.0'))).toBeNull();
  });

  it('serves MISS then HIT per edge, purges by URL and by xkey tag, and answers Range through the edge', async () => {
    const [edgeA, edgeB] = edges;
    const objectPath = `/${cdnBlobKey('vision/resnet', '1.0.0')}`;
    const bytes = readFileSync(packageFile);
    const first = await get(`${edgeA!.endpoint}${objectPath}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('x-served-by')).toBe('edge-a');
    expect(first.body.equals(bytes)).toBe(true);
    const second = await get(`${edgeA!.endpoint}${objectPath}`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.headers.get('surrogate-key')).toContain(versionSurrogateKey('vision/resnet', '1.0.0'));
    expect(createHash('sha256').update(second.body).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await get(`${edgeB!.endpoint}${objectPath}`)).headers.get('x-cache')).toBe('MISS');
    expect((await get(`${edgeB!.endpoint}${objectPath}`)).headers.get('x-cache')).toBe('HIT');

    const ranged = await get(`${edgeA!.endpoint}${objectPath}`, { Range: 'bytes=1000-1999' });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 1000-1999/${bytes.length}`);
    expect(ranged.body.equals(bytes.subarray(1000, 2000))).toBe(true);

    // Statistics read the edges' own answers (X-Cache, X-Served-By): a MISS, a HIT and a Range HIT.
    const db = openDatabase(`${work.dir}/stats.sqlite`, migrations);
    const stats = new SqliteCdnStatsRepository(db);
    for (const answer of [first, second, ranged]) {
      await stats.record({ at: new Date(), edgeId: answer.headers.get('x-served-by') ?? '?', name: 'vision/resnet', version: '1.0.0', outcome: cacheOutcomeOf(answer.headers), bytes: answer.body.length });
    }
    const counted = await stats.query(new Date(Date.now() - 60_000), new Date(Date.now() + 60_000), 60);
    db.close();
    expect(counted.totals).toMatchObject({ hits: 2, misses: 1, edgeBytes: bytes.length + 1000, originBytes: bytes.length });

    const provider = new HttpPurgeProvider({ name: 'varnish', edges: [edgeA!, edgeB!].map((edge) => ({ id: edge.id, endpoint: edge.endpoint })), tagHeader: 'xkey-purge' });
    const byUrl = await runPurge(provider, { urls: [`https://cdn.example.com${objectPath}`], tags: [], soft: false }, { retry });
    expect(byUrl.results.map((result) => [result.via, result.ok])).toEqual([
      ['edge-a', true],
      ['edge-b', true],
    ]);
    expect((await get(`${edgeA!.endpoint}${objectPath}`)).headers.get('x-cache')).toBe('MISS');
    expect((await get(`${edgeB!.endpoint}${objectPath}`)).headers.get('x-cache')).toBe('MISS');
    expect((await get(`${edgeA!.endpoint}${objectPath}`)).headers.get('x-cache')).toBe('HIT');

    const byTag = await runPurge(provider, { urls: [], tags: [packageSurrogateKey('vision/resnet')], soft: false }, { retry });
    expect(byTag.results.every((result) => result.ok)).toBe(true);
    expect(byTag.apiCalls).toBe(2);
    expect((await get(`${edgeA!.endpoint}${objectPath}`)).headers.get('x-cache')).toBe('MISS');
    expect((await get(`${edgeB!.endpoint}${objectPath}`)).headers.get('x-cache')).toBe('MISS');
  });
});

describe('serve as the origin behind a Varnish edge', () => {
  it('answers conditional and Range requests with surrogate keys, cached and purged by tag at the edge', async () => {
    const edge = edges[2]!;
    const downloadPath = '/api/v1/packages/vision/resnet/1.0.0/download';
    const bytes = readFileSync(packageFile);
    const direct = await curlHead(`${registry}${downloadPath}`);
    expect(direct['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(direct['surrogate-key']).toBe('torsh torsh-pkg-vision__resnet torsh-pkg-vision__resnet-v1.0.0');
    expect(direct['cache-tag']).toBe('torsh,torsh-pkg-vision__resnet,torsh-pkg-vision__resnet-v1.0.0');
    expect(direct['accept-ranges']).toBe('bytes');
    const notModified = await get(`${registry}${downloadPath}`, { 'If-None-Match': direct.etag! });
    expect(notModified.status).toBe(304);
    const ranged = await get(`${registry}${downloadPath}`, { Range: 'bytes=10-19', 'If-Range': direct.etag! });
    expect(ranged.status).toBe(206);
    expect(ranged.body.equals(bytes.subarray(10, 20))).toBe(true);

    expect((await get(`${edge.endpoint}${downloadPath}`)).headers.get('x-cache')).toBe('MISS');
    const hit = await get(`${edge.endpoint}${downloadPath}`);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.body.equals(bytes)).toBe(true);
    const edgeRange = await get(`${edge.endpoint}${downloadPath}`, { Range: `bytes=${bytes.length - 100}-` });
    expect(edgeRange.status).toBe(206);
    expect(edgeRange.body.equals(bytes.subarray(bytes.length - 100))).toBe(true);

    // pull's routing question through an edge is passed to serve every time (never cached), and a HEAD stays a HEAD.
    for (let round = 0; round < 2; round += 1) {
      const asked = await curlHead(`${edge.endpoint}${downloadPath}?route=auto`);
      expect(asked['x-cache']).toBe('MISS');
      expect(asked['x-torsh-route']).toMatch(/^registry; /);
    }

    const provider = new HttpPurgeProvider({ name: 'varnish', edges: [{ id: edge.id, endpoint: edge.endpoint }], tagHeader: 'xkey-purge' });
    const report = await runPurge(provider, { urls: [], tags: [versionSurrogateKey('vision/resnet', '1.0.0')], soft: false }, { retry });
    expect(report.results[0]).toMatchObject({ ok: true, via: 'edge-serve' });
    expect((await get(`${edge.endpoint}${downloadPath}`)).headers.get('x-cache')).toBe('MISS');
  });
});
