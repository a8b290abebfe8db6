import { describe, expect, it } from 'vitest';
import { cacheControlFor, cachePolicyOf, cdnBlobKey, cdnSectionSchema, surrogateKeyHeaders, surrogateKeysFor } from '../../../../shared/domain/cdn';
import { packagePurgeTarget } from '../../../../electron/services/cdn/cdn-purger';
import { retryAfterMs } from '../../../../electron/services/cdn/purge-http-client';

const section = (input: Record<string, unknown> = {}) =>
  cdnSectionSchema.parse({ provider: 'varnish', origin: { storage: 'registry', base_url: 'https://cdn.example.com/' }, edges: [{ id: 'edge-a', region: 'eu-west-1', endpoint: 'http://127.0.0.1:1' }], ...input });

describe('cache policies', () => {
  it('writes immutable, short and no-store Cache-Control from the config', () => {
    const policies = section({ policies: { short: { max_age: '2m', stale_while_revalidate: '30s', stale_if_error: '1d' } } }).policies;
    expect(cacheControlFor('immutable', policies)).toBe('public, max-age=31536000, immutable');
    expect(cacheControlFor('short', policies)).toBe('public, max-age=120, stale-while-revalidate=30, stale-if-error=86400');
    expect(cacheControlFor('no-store', policies)).toBe('no-store');
  });

  it('never lets a shared cache keep a private or internal object', () => {
    expect(cachePolicyOf('blob', 'public')).toBe('immutable');
    expect(cachePolicyOf('index', 'public')).toBe('short');
    expect(cachePolicyOf('blob', 'private')).toBe('no-store');
    expect(cachePolicyOf('index', 'internal')).toBe('no-store');
  });
});

describe('keys', () => {
  it('uses stable versioned object keys, scoped names included', () => {
    expect(cdnBlobKey('resnet', '1.2.0')).toBe('packages/resnet/1.2.0/resnet-1.2.0.torshpkg');
    expect(cdnBlobKey('vision/quokka', '0.1.0')).toBe('packages/vision/quokka/0.1.0/vision__quokka-0.1.0.torshpkg');
  });

  it('names package and version in Surrogate-Key and Cache-Tag', () => {
    expect(surrogateKeysFor('resnet', '1.2.0')).toEqual(['torsh', 'torsh-pkg-resnet', 'torsh-pkg-resnet-v1.2.0']);
    expect(surrogateKeyHeaders('vision/quokka')).toEqual({ 'Surrogate-Key': 'torsh torsh-pkg-vision__quokka', 'Cache-Tag': 'torsh,torsh-pkg-vision__quokka' });
  });

  it('purges a package by its key on tag-capable providers and by a path wildcard on CloudFront', () => {
    // serve as the origin: the edge holds the version under its download path.
    expect(packagePurgeTarget(section(), 'resnet', '1.2.0', false)).toEqual({ urls: ['https://cdn.example.com/api/v1/packages/resnet/1.2.0/download'], tags: ['torsh-pkg-resnet-v1.2.0'], soft: false });
    expect(packagePurgeTarget(section({ origin: { storage: 's3://bucket', base_url: 'https://cdn.example.com/' } }), 'resnet', '1.2.0', false)).toEqual({
      urls: ['https://cdn.example.com/packages/resnet/1.2.0/resnet-1.2.0.torshpkg', 'https://cdn.example.com/packages/resnet/1.2.0/resnet-1.2.0.torshpkg.minisig', 'https://cdn.example.com/packages/resnet/index.json'],
      tags: ['torsh-pkg-resnet-v1.2.0'],
      soft: false,
    });
    const cloudfront = cdnSectionSchema.parse({
      provider: 'cloudfront',
      origin: { storage: 's3://bucket', base_url: 'https://d1.cloudfront.net' },
      cloudfront: { distribution_id: 'E1', access_key_id: '${AWS_ACCESS_KEY_ID}', secret_access_key: '${AWS_SECRET_ACCESS_KEY}' },
    });
    expect(packagePurgeTarget(cloudfront, 'resnet', undefined, false)).toEqual({ urls: ['https://d1.cloudfront.net/packages/resnet/*'], tags: [], soft: false });
  });
});

describe('config', () => {
  it('names the bad field by its path', () => {
    const result = cdnSectionSchema.safeParse({ provider: 'varnish', origin: { storage: 'registry' }, edges: [{ id: 'a', region: 'x', endpoint: 'http://1' }, { id: 'a', region: 'y', endpoint: 'http://2' }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain('edges.1.id');
    expect(cdnSectionSchema.safeParse({ provider: 'varnish', origin: { storage: 'registry' }, edges: [] }).success).toBe(false);
    expect(cdnSectionSchema.safeParse({ provider: 'cloudflare', origin: { storage: 'registry' }, cloudflare: { zone_id: 'a', api_token: '${T}' }, signed_urls: { scheme: 'cloudflare-token' } }).success).toBe(false);
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Wed, 02 Dec 2026 13:00:10 GMT', Date.parse('2026-12-02T13:00:00Z'))).toBe(10_000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(null)).toBeNull();
  });
});
