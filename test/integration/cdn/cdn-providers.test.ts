import { afterEach, describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, createVerify, generateKeyPairSync } from 'node:crypto';
import { cdnSectionSchema, type PurgeRetry } from '../../../shared/domain/cdn';
import { CloudflareProvider, signCloudflareTokenUrl } from '../../../electron/services/cdn/providers/cloudflare-provider';
import { FastlyProvider } from '../../../electron/services/cdn/providers/fastly-provider';
import { CloudFrontProvider, signCloudFrontUrl } from '../../../electron/services/cdn/providers/cloudfront-provider';
import { createCdnProvider } from '../../../electron/services/cdn/cdn-provider-factory';
import { runPurge } from '../../../electron/services/cdn/cdn-purger';
import { startApiRecorder, type ApiRecorder, type RecordedCall, type RecorderAnswer } from '../../support/api-recorder';

const retry: PurgeRetry = { max_retries: 3, base_delay: 10, max_delay: 50 };
const recorders: ApiRecorder[] = [];
afterEach(async () => {
  await Promise.all(recorders.splice(0).map((recorder) => recorder.stop()));
});

async function recorder(handle: Parameters<typeof startApiRecorder>[0]): Promise<ApiRecorder> {
  const started = await startApiRecorder(handle);
  recorders.push(started);
  return started;
}

const urls = (count: number): string[] => Array.from({ length: count }, (_, index) => `https://cdn.example.com/packages/p${index}/1.0.0/p${index}-1.0.0.torshpkg`);

describe('Cloudflare purge API', () => {
  const token = 'cf-token-SECRET-value';
  const zone = '023e105f4ecef8ad9ca31a8372d0c353';

  /** The documented request: POST /client/v4/zones/{zone_id}/purge_cache, Bearer token, JSON with exactly one of files/tags, ≤ 100 items. */
  function checkCloudflare(call: RecordedCall): { files?: string[]; tags?: string[] } {
    expect(call.method).toBe('POST');
    expect(call.url).toBe(`/client/v4/zones/${zone}/purge_cache`);
    expect(call.headers.authorization).toBe(`Bearer ${token}`);
    expect(call.headers['content-type']).toBe('application/json');
    const body = JSON.parse(call.body) as { files?: string[]; tags?: string[] };
    expect(Object.keys(body)).toHaveLength(1);
    const items = body.files ?? body.tags ?? [];
    expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThanOrEqual(100);
    return body;
  }

  it('batches URLs by 100, honours 429 Retry-After, and reports a failed batch per URL', async () => {
    const server = await recorder((call, index): RecorderAnswer => {
      const body = checkCloudflare(call);
      if (index === 0) return { status: 429, headers: { 'Retry-After': '1', 'Content-Type': 'application/json' }, body: JSON.stringify({ success: false, errors: [{ code: 10000, message: 'rate limited' }], messages: [], result: null }) };
      if (body.files?.[0]?.includes('/p200/')) {
        return { status: 400, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ success: false, errors: [{ code: 1012, message: 'Request must contain one of "purge_everything", "files", "tags"' }], messages: [], result: null }) };
      }
      return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ success: true, errors: [], messages: [], result: { id: `purge-${index}` } }) };
    });
    const provider = new CloudflareProvider({ zoneId: zone, apiToken: token, endpoint: `${server.url}/client/v4`, batchSize: 100 });
    const logged: string[] = [];
    const report = await runPurge(provider, { urls: urls(250), tags: [], soft: false }, { retry, logger: { info: (line) => logged.push(line), warn: (line) => logged.push(line), error: (line) => logged.push(line) } });

    expect(server.failures).toEqual([]);
    // 3 batches (100, 100, 50) + one retry after the 429.
    expect(server.calls.map((call) => (JSON.parse(call.body) as { files: string[] }).files.length)).toEqual([100, 100, 100, 50]);
    expect(server.calls[1]!.at - server.calls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(report.apiCalls).toBe(4);
    expect(report.retries).toBe(1);
    expect(report.results).toHaveLength(250);
    expect(report.results.filter((result) => result.ok)).toHaveLength(200);
    const failed = report.results.filter((result) => !result.ok);
    expect(failed.every((result) => result.target.match(/\/p2\d\d\//) && result.error?.includes('1012'))).toBe(true);
    expect(report.results[0]).toMatchObject({ kind: 'url', ok: true, id: 'purge-1', via: 'cloudflare' });
    expect(JSON.stringify(report) + logged.join('\n')).not.toContain(token);
  });

  it('purges cache tags in batches and reads GraphQL cache analytics', async () => {
    const server = await recorder((call) => {
      if (call.url === '/client/v4/graphql') {
        expect(call.headers.authorization).toBe(`Bearer ${token}`);
        const body = JSON.parse(call.body) as { query: string; variables: { zoneTag: string; since: string; until: string } };
        expect(body.query).toContain('httpRequestsAdaptiveGroups');
        expect(body.variables.zoneTag).toBe(zone);
        expect(Date.parse(body.variables.since)).toBeLessThan(Date.parse(body.variables.until));
        const group = (cacheStatus: string, count: number, bytes: number) => ({ count, sum: { edgeResponseBytes: bytes }, dimensions: { cacheStatus } });
        return { status: 200, body: JSON.stringify({ data: { viewer: { zones: [{ httpRequestsAdaptiveGroups: [group('hit', 90, 9000), group('miss', 8, 800), group('stale', 2, 200)] }] } }, errors: null }) };
      }
      const body = checkCloudflare(call);
      expect(body.tags).toBeDefined();
      return { status: 200, body: JSON.stringify({ success: true, errors: [], messages: [], result: { id: 'tags' } }) };
    });
    const provider = new CloudflareProvider({ zoneId: zone, apiToken: token, endpoint: `${server.url}/client/v4`, batchSize: 100 });
    const tags = Array.from({ length: 130 }, (_, index) => `torsh-pkg-p${index}`);
    const report = await runPurge(provider, { urls: [], tags, soft: false }, { retry });
    expect(server.calls).toHaveLength(2);
    expect(report.results.every((result) => result.ok && result.kind === 'tag')).toBe(true);

    const analytics = await provider.analytics(new Date(Date.now() - 3_600_000), new Date(), { retry, counter: { apiCalls: 0, retries: 0 } });
    expect(analytics).toMatchObject({ requests: 100, cachedRequests: 92, bytes: 10_000, cachedBytes: 9200 });
    expect(server.failures).toEqual([]);
  });
});

describe('Fastly purge API', () => {
  const apiKey = 'fastly-SECRET-key';
  const serviceId = 'SU1Z0isxPaozGVKXdv0eY';

  it('purges URLs one call each (soft when asked) and surrogate keys in batches of 256 with per-key results', async () => {
    let failedOnce = false;
    const server = await recorder((call) => {
      expect(call.method).toBe('POST');
      expect(call.headers['fastly-key']).toBe(apiKey);
      expect(call.headers.accept).toBe('application/json');
      expect(call.headers['fastly-soft-purge']).toBe('1');
      if (call.url.startsWith('/purge/')) {
        expect(call.url).toMatch(/^\/purge\/cdn\.example\.com\/packages\/p\d\/1\.0\.0\/p\d-1\.0\.0\.torshpkg$/);
        if (!failedOnce) {
          failedOnce = true;
          return { status: 503, body: 'backend read error' };
        }
        return { status: 200, body: JSON.stringify({ status: 'ok', id: `url-${call.url.length}` }) };
      }
      expect(call.url).toBe(`/service/${serviceId}/purge`);
      const keys = String(call.headers['surrogate-key']).split(' ');
      expect(keys.length).toBeLessThanOrEqual(256);
      // Partial: Fastly answers a map of key → purge id; leave one key out.
      return { status: 200, body: JSON.stringify(Object.fromEntries(keys.filter((key) => key !== 'k-7').map((key) => [key, `id-${key}`]))) };
    });
    const provider = new FastlyProvider({ serviceId, apiKey, endpoint: server.url, softPurge: false, batchSize: 256 });
    const tags = Array.from({ length: 300 }, (_, index) => `k-${index}`);
    const report = await runPurge(provider, { urls: urls(3), tags, soft: true }, { retry });
    expect(server.failures).toEqual([]);
    expect(server.calls.filter((call) => call.url.startsWith('/service/')).map((call) => String(call.headers['surrogate-key']).split(' ').length)).toEqual([256, 44]);
    expect(report.apiCalls).toBe(3 + 1 + 2);
    expect(report.retries).toBe(1);
    expect(report.results.filter((result) => result.kind === 'url' && result.ok)).toHaveLength(3);
    expect(report.results.find((result) => result.target === 'k-7')).toMatchObject({ ok: false, error: 'Fastly did not confirm this key' });
    expect(report.results.find((result) => result.target === 'k-8')).toMatchObject({ ok: true, id: 'id-k-8' });
    expect(JSON.stringify(report)).not.toContain(apiKey);
  });
});

describe('CloudFront invalidations', () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const distributionId = 'EDFDVBD6EXAMPLE';

  class Sha256 {
    private readonly hash;
    constructor(secret?: string | Uint8Array) {
      this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
    }
    update(data: string | Uint8Array): void {
      this.hash.update(data);
    }
    digest(): Promise<Uint8Array> {
      return Promise.resolve(new Uint8Array(this.hash.digest()));
    }
  }

  /** Re-signs the received request with the real SigV4 implementation and compares (what AWS does). */
  async function checkSigV4(call: RecordedCall, host: string): Promise<void> {
    const amzDate = String(call.headers['x-amz-date']);
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    const authorization = String(call.headers.authorization);
    expect(authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/\\d{8}/us-east-1/cloudfront/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`));
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
    expect(signedHeaders).toContain('host');
    expect(signedHeaders).toContain('x-amz-date');
    const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(call.headers[name])]));
    const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'cloudfront', sha256: Sha256 as never });
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const url = new URL(call.url, `http://${host}`);
    const expected = await signer.sign(
      { method: call.method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { ...headers, host }, ...(call.body ? { body: call.body } : {}) },
      { signingDate },
    );
    expect(authorization).toBe(expected.headers.authorization);
  }

  it('sends signed InvalidationBatch XML in batches and waits for Completed', async () => {
    const polls = new Map<string, number>();
    const references = new Set<string>();
    let host = '';
    const server = await recorder(async (call) => {
      await checkSigV4(call, host);
      const base = `/2020-05-31/distribution/${distributionId}/invalidation`;
      if (call.method === 'POST') {
        expect(call.url).toBe(base);
        expect(call.body).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?><InvalidationBatch xmlns="http:\/\/cloudfront\.amazonaws\.com\/doc\/2020-05-31\/">/);
        const quantity = Number(/<Quantity>(\d+)<\/Quantity>/.exec(call.body)![1]);
        const paths = [...call.body.matchAll(/<Path>([^<]*)<\/Path>/g)].map((match) => match[1]!);
        expect(paths).toHaveLength(quantity);
        expect(quantity).toBeLessThanOrEqual(2);
        expect(paths.every((path) => path.startsWith('/packages/'))).toBe(true);
        const reference = /<CallerReference>([^<]+)<\/CallerReference>/.exec(call.body)![1]!;
        expect(references.has(reference)).toBe(false);
        references.add(reference);
        const id = `I${references.size}EXAMPLE`;
        polls.set(id, 0);
        return {
          status: 201,
          headers: { 'Content-Type': 'text/xml', Location: `https://cloudfront.amazonaws.com${base}/${id}` },
          body: `<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>${id}</Id><Status>InProgress</Status><CreateTime>2026-12-02T13:00:00Z</CreateTime></Invalidation>`,
        };
      }
      expect(call.method).toBe('GET');
      const id = call.url.slice(base.length + 1);
      const seen = polls.get(id);
      if (seen === undefined) return { status: 404, body: '<ErrorResponse><Error><Code>NoSuchInvalidation</Code><Message>no</Message></Error></ErrorResponse>' };
      polls.set(id, seen + 1);
      return { status: 200, body: `<Invalidation><Id>${id}</Id><Status>${seen >= 1 ? 'Completed' : 'InProgress'}</Status></Invalidation>` };
    });
    host = new URL(server.url).host;
    const provider = new CloudFrontProvider({ distributionId, ...credentials, endpoint: server.url, batchSize: 2, waitForCompletion: true, waitTimeoutMs: 10_000, pollIntervalMs: 20 });
    const report = await runPurge(provider, { urls: [...urls(3), 'https://cdn.example.com/packages/big/*'], tags: ['torsh-pkg-big'], soft: false }, { retry });
    expect(server.failures).toEqual([]);
    expect(server.calls.filter((call) => call.method === 'POST')).toHaveLength(2);
    expect([...polls.values()].every((count) => count === 2)).toBe(true);
    const urlResults = report.results.filter((result) => result.kind === 'url');
    expect(urlResults.every((result) => result.ok)).toBe(true);
    expect(urlResults.map((result) => result.id)).toEqual(['I1EXAMPLE', 'I1EXAMPLE', 'I2EXAMPLE', 'I2EXAMPLE']);
    expect(server.calls.some((call) => call.body.includes('<Path>/packages/big/*</Path>'))).toBe(true);
    expect(report.results.find((result) => result.kind === 'tag')).toMatchObject({ ok: false });
    expect(JSON.stringify(report)).not.toContain(credentials.secretAccessKey);
  });

  it('signs URLs with a canned policy that the public key verifies', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const expires = 1_900_000_000;
    const resource = 'https://d111111abcdef8.cloudfront.net/packages/p/1.0.0/p-1.0.0.torshpkg';
    const signed = new URL(signCloudFrontUrl(resource, 'K2JCJMDEHXQW5F', privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), expires));
    expect(signed.searchParams.get('Expires')).toBe(String(expires));
    expect(signed.searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
    const signature = signed.searchParams.get('Signature')!;
    expect(signature).not.toMatch(/[+=/]/);
    const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
    const raw = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
    expect(createVerify('RSA-SHA1').update(policy).verify(publicKey, raw)).toBe(true);
    expect(createVerify('RSA-SHA1').update(policy.replace('1.0.0', '2.0.0')).verify(publicKey, raw)).toBe(false);
  });
});

describe('Cloudflare token authentication', () => {
  it('appends verify=<time>-<HMAC-SHA256 of path+time> as the WAF rule checks it', () => {
    const signed = new URL(signCloudflareTokenUrl('https://cdn.example.com/packages/p/1.0.0/p-1.0.0.torshpkg', 'waf-secret', 1_484_063_787));
    const [time, mac] = signed.searchParams.get('verify')!.split(/-(.*)/s);
    expect(time).toBe('1484063787');
    expect(mac).toBe(createHmac('sha256', 'waf-secret').update('/packages/p/1.0.0/p-1.0.0.torshpkg1484063787').digest('base64'));
    expect(mac).not.toBe(createHmac('sha256', 'other').update('/packages/p/1.0.0/p-1.0.0.torshpkg1484063787').digest('base64'));
  });
});

describe('provider factory', () => {
  it('resolves ${ENV} secrets and points the provider at --endpoint', async () => {
    const server = await recorder((call) => {
      expect(call.headers.authorization).toBe('Bearer from-env');
      return { status: 200, body: JSON.stringify({ success: true, errors: [], messages: [], result: { id: 'x' } }) };
    });
    const section = cdnSectionSchema.parse({ provider: 'cloudflare', origin: { storage: 'registry' }, cloudflare: { zone_id: 'abc123', api_token: '${CF_TOKEN}' } });
    const provider = await createCdnProvider(section, async (reference) => (reference === '${CF_TOKEN}' ? 'from-env' : Promise.reject(new Error('unknown'))), { endpoint: server.url });
    const report = await runPurge(provider, { urls: urls(1), tags: [], soft: false }, { retry });
    expect(report.results[0]?.ok).toBe(true);
    expect(server.calls[0]?.url).toBe('/zones/abc123/purge_cache');
  });

  it('refuses an inline secret and a provider without its block', () => {
    expect(cdnSectionSchema.safeParse({ provider: 'cloudflare', origin: { storage: 'registry' }, cloudflare: { zone_id: 'abc', api_token: 'inline-token' } }).success).toBe(false);
    const missing = cdnSectionSchema.safeParse({ provider: 'fastly', origin: { storage: 'registry' } });
    expect(missing.success).toBe(false);
    expect(missing.error?.issues[0]?.path).toEqual(['fastly']);
  });
});
