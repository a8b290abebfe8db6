import { z } from 'zod';
import { durationSchema, formatDuration, formatSize, secretReferenceSchema, sizeSchema } from './config-values';
import { healthThresholdsSchema, mirrorUrlSchema } from './mirrors';

/**
 * The `cdn:` section of `depot.yaml` — the same names in the config file, the HTTP API
 * (`/api/v1/cdn`), the CLI flags (`--provider`, `--endpoint` …) and the CDN screen.
 * Secrets are `${ENV}` / `file:` references only (see config-values.ts).
 */

export const cdnProviders = ['cloudflare', 'cloudfront', 'fastly', 'varnish', 'generic-http'] as const;
export const cdnProviderSchema = z.enum(cdnProviders);
export type CdnProviderName = z.infer<typeof cdnProviderSchema>;

/** Edges, API endpoints and public bases are http(s) URLs without credentials, like mirrors. */
const httpUrlSchema = mirrorUrlSchema;

const edgeIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and -');

export const cloudflareSettingsSchema = z
  .object({
    zone_id: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'the 32-character zone id from the dashboard'),
    api_token: secretReferenceSchema,
    /** Test and proxy override of `https://api.cloudflare.com/client/v4`. */
    endpoint: httpUrlSchema.default('https://api.cloudflare.com/client/v4'),
    /** Operations per purge call: 100 on every plan (500 URLs on Enterprise). */
    batch_size: z.number().int().min(1).max(500).default(100),
    /** Read Cloudflare's GraphQL cache analytics next to our own view. */
    analytics: z.boolean().default(false),
    /** Cloudflare token authentication (WAF `is_timed_hmac_valid_v0`) for private objects. */
    token_auth_secret: secretReferenceSchema.optional(),
  })
  .strict();

export const cloudfrontSettingsSchema = z
  .object({
    distribution_id: z.string().regex(/^[A-Z0-9]{1,32}$/, 'the distribution id (upper-case letters and digits)'),
    access_key_id: secretReferenceSchema,
    secret_access_key: secretReferenceSchema,
    /** Test override of `https://cloudfront.amazonaws.com`. */
    endpoint: httpUrlSchema.default('https://cloudfront.amazonaws.com'),
    /** Paths per invalidation batch (CloudFront allows 3,000 file paths in progress per distribution). */
    batch_size: z.number().int().min(1).max(3000).default(1000),
    wait_for_completion: z.boolean().default(true),
    wait_timeout: durationSchema.default(15 * 60_000),
    /** Public domain of the distribution, for signed URLs (`d111111abcdef8.cloudfront.net`). */
    domain: z.string().max(253).optional(),
    /** Signed URLs: the key-pair/public-key id and its RSA private key (PEM). */
    key_pair_id: z.string().max(128).optional(),
    private_key: secretReferenceSchema.optional(),
  })
  .strict();

export const fastlySettingsSchema = z
  .object({
    service_id: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'the service id from the Fastly console'),
    api_key: secretReferenceSchema,
    endpoint: httpUrlSchema.default('https://api.fastly.com'),
    /** Mark objects stale instead of removing them (`Fastly-Soft-Purge: 1`). */
    soft_purge: z.boolean().default(false),
    /** Keys per batch purge call: at most 256. */
    batch_size: z.number().int().min(1).max(256).default(256),
  })
  .strict();

/** Self-hosted edges (Varnish with vmod xkey, or anything that takes `PURGE`). */
export const httpPurgeSettingsSchema = z
  .object({
    /** Header carrying surrogate keys to purge (`xkey-purge` for the VCL in docs/cdn.md). */
    tag_header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).default('xkey-purge'),
    /** Optional shared secret sent as `X-Purge-Token` (the VCL compares it). */
    purge_token: secretReferenceSchema.optional(),
  })
  .strict();

export const cachePoliciesSchema = z
  .object({
    /** Versioned blobs never change: `public, max-age=<immutable_max_age>, immutable`. */
    immutable_max_age: durationSchema.default(31_536_000_000),
    /** Indexes change: short max-age with stale-while-revalidate and stale-if-error. */
    short: z
      .object({
        max_age: durationSchema.default(60_000),
        stale_while_revalidate: durationSchema.default(30_000),
        stale_if_error: durationSchema.default(86_400_000),
      })
      .strict()
      .default({ max_age: 60_000, stale_while_revalidate: 30_000, stale_if_error: 86_400_000 }),
  })
  .strict();
export type CachePolicies = z.infer<typeof cachePoliciesSchema>;

export const signedUrlSchemes = ['cloudfront', 'cloudflare-token'] as const;
export const signedUrlSchemeSchema = z.enum(signedUrlSchemes);
export type SignedUrlScheme = z.infer<typeof signedUrlSchemeSchema>;

export const cdnOriginSchema = z
  .object({
    /** A storage URL (file:///…, s3://bucket/prefix?…, azure://…, gs://…) or `registry` (serve is the origin). */
    storage: z.string().min(1).max(2048),
    /** Public origins are reachable without credentials; private packages need a signed-URL scheme there. */
    public: z.boolean().default(true),
    /** The URL edges and clients reach the origin at (e.g. the bucket's website endpoint). */
    base_url: httpUrlSchema.optional(),
  })
  .strict();

export const edgeConfigSchema = z
  .object({
    id: edgeIdSchema,
    region: z.string().min(1).max(64),
    endpoint: httpUrlSchema,
    capacity_gbps: z.number().positive().max(10_000).default(10),
    enabled: z.boolean().default(true),
    /** Path of a small object the probe fetches (latency and throughput). */
    probe_path: z.string().startsWith('/').max(1024).default('/api/v1/health'),
  })
  .strict();
export type EdgeConfig = z.infer<typeof edgeConfigSchema>;

export const routingModes = ['auto', 'cdn', 'registry'] as const;
export const routingSchema = z
  .object({
    mode: z.enum(routingModes).default('auto'),
    /** Packages at or over this size go through the CDN in `auto` mode. */
    min_size: sizeSchema.default(100 * 1000 * 1000),
    /** When no edge is up, fall back to the configured mirrors before the registry. */
    mirrors_fallback: z.boolean().default(true),
  })
  .strict();
export type RoutingPolicy = z.infer<typeof routingSchema>;

export const cidrRegionSchema = z
  .object({
    cidr: z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'a CIDR block such as 203.0.113.0/24'),
    region: z.string().min(1).max(64),
  })
  .strict();

export const geoSchema = z
  .object({
    cidr_regions: z.array(cidrRegionSchema).max(10_000).default([]),
    /** A MaxMind GeoLite2 City or Country `.mmdb` file (relative to the config file): client IP → coordinates or continent, after the CIDR table. */
    maxmind_db: z.string().min(1).max(4096).optional(),
  })
  .strict();

export const purgeRetrySchema = z
  .object({
    max_retries: z.number().int().min(0).max(20).default(5),
    base_delay: durationSchema.default(500),
    max_delay: durationSchema.default(30_000),
  })
  .strict();
export type PurgeRetry = z.infer<typeof purgeRetrySchema>;

export const cdnSectionSchema = z
  .object({
    provider: cdnProviderSchema,
    origin: cdnOriginSchema,
    policies: cachePoliciesSchema.default({
      immutable_max_age: 31_536_000_000,
      short: { max_age: 60_000, stale_while_revalidate: 30_000, stale_if_error: 86_400_000 },
    }),
    signed_urls: z
      .object({ scheme: signedUrlSchemeSchema, ttl: durationSchema.default(3_600_000) })
      .strict()
      .optional(),
    cloudflare: cloudflareSettingsSchema.optional(),
    cloudfront: cloudfrontSettingsSchema.optional(),
    fastly: fastlySettingsSchema.optional(),
    http_purge: httpPurgeSettingsSchema.default({ tag_header: 'xkey-purge' }),
    edges: z.array(edgeConfigSchema).max(500).default([]),
    routing: routingSchema.default({ mode: 'auto', min_size: 100 * 1000 * 1000, mirrors_fallback: true }),
    geo: geoSchema.default({ cidr_regions: [] }),
    retry: purgeRetrySchema.default({ max_retries: 5, base_delay: 500, max_delay: 30_000 }),
    /** How often edges are probed, and the hysteresis — the same machinery and names as mirrors. */
    health_check_interval: durationSchema.default(60_000),
    health: healthThresholdsSchema.default({ failures_to_down: 3, successes_to_up: 2, timeout: 5000, degraded_latency: 2000 }),
  })
  .strict()
  .superRefine((section, context) => {
    const needs = { cloudflare: 'cloudflare', cloudfront: 'cloudfront', fastly: 'fastly' } as const;
    if (section.provider in needs && section[section.provider as keyof typeof needs] === undefined) {
      context.addIssue({ code: 'custom', path: [section.provider], message: `provider "${section.provider}" needs a "${section.provider}:" block` });
    }
    if ((section.provider === 'varnish' || section.provider === 'generic-http') && section.edges.length === 0) {
      context.addIssue({ code: 'custom', path: ['edges'], message: `provider "${section.provider}" purges its edges: list at least one` });
    }
    const scheme = section.signed_urls?.scheme;
    if (scheme === 'cloudfront' && (!section.cloudfront?.key_pair_id || !section.cloudfront.private_key || !section.cloudfront.domain)) {
      context.addIssue({ code: 'custom', path: ['cloudfront'], message: 'CloudFront signed URLs need cloudfront.domain, key_pair_id and private_key' });
    }
    if (scheme === 'cloudflare-token' && !section.cloudflare?.token_auth_secret) {
      context.addIssue({ code: 'custom', path: ['cloudflare', 'token_auth_secret'], message: 'Cloudflare token authentication needs cloudflare.token_auth_secret' });
    }
    const ids = section.edges.map((edge) => edge.id);
    ids.forEach((id, index) => {
      if (ids.indexOf(id) !== index) context.addIssue({ code: 'custom', path: ['edges', index, 'id'], message: `edge id "${id}" is used twice` });
    });
  });
export type CdnSection = z.infer<typeof cdnSectionSchema>;
export type CdnSectionInput = z.input<typeof cdnSectionSchema>;

// ——— Cache policies ———

export const cachePolicyNames = ['immutable', 'short', 'no-store'] as const;
export type CachePolicyName = (typeof cachePolicyNames)[number];

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The `Cache-Control` value of a policy. */
export function cacheControlFor(policy: CachePolicyName, policies: CachePolicies): string {
  switch (policy) {
    case 'immutable':
      return `public, max-age=${seconds(policies.immutable_max_age)}, immutable`;
    case 'short':
      return `public, max-age=${seconds(policies.short.max_age)}, stale-while-revalidate=${seconds(policies.short.stale_while_revalidate)}, stale-if-error=${seconds(policies.short.stale_if_error)}`;
    case 'no-store':
      return 'no-store';
  }
}

export const packageVisibilities = ['public', 'internal', 'private'] as const;
export type PackageVisibilityName = (typeof packageVisibilities)[number];

/** Versioned blobs are immutable, indexes short-lived, anything not public is never stored by a shared cache. */
export function cachePolicyOf(kind: 'blob' | 'index', visibility: PackageVisibilityName): CachePolicyName {
  if (visibility !== 'public') return 'no-store';
  return kind === 'blob' ? 'immutable' : 'short';
}

// ——— Object keys and surrogate keys ———

/** `packages/<name>/<version>/<name>-<version>.torshpkg`; a scoped name keeps its folder, its file name uses `__`. */
export function cdnBlobKey(name: string, version: string): string {
  return `packages/${name}/${version}/${fileStem(name)}-${version}.torshpkg`;
}

export function cdnSignatureKey(name: string, version: string): string {
  return `${cdnBlobKey(name, version)}.minisig`;
}

export function cdnIndexKey(name: string): string {
  return `packages/${name}/index.json`;
}

function fileStem(name: string): string {
  return name.replace('/', '__');
}

/** Every object carries these, so one purge clears all of a package (or of one version). */
export const surrogateKeyPrefix = 'torsh';

export function packageSurrogateKey(name: string): string {
  return `${surrogateKeyPrefix}-pkg-${fileStem(name)}`;
}

export function versionSurrogateKey(name: string, version: string): string {
  return `${surrogateKeyPrefix}-pkg-${fileStem(name)}-v${version}`;
}

/** The keys of one object: everything, the package, and the version when there is one. */
export function surrogateKeysFor(name: string, version?: string): string[] {
  const keys = [surrogateKeyPrefix, packageSurrogateKey(name)];
  if (version !== undefined) keys.push(versionSurrogateKey(name, version));
  return keys;
}

/**
 * Response headers naming the keys: `Surrogate-Key` (Fastly, Varnish xkey — space-separated) and
 * `Cache-Tag` (Cloudflare — comma-separated).
 */
export function surrogateKeyHeaders(name: string, version?: string): Record<'Surrogate-Key' | 'Cache-Tag', string> {
  const keys = surrogateKeysFor(name, version);
  return { 'Surrogate-Key': keys.join(' '), 'Cache-Tag': keys.join(',') };
}

// ——— Purge requests and results ———

export const purgeTargetSchema = z
  .object({
    urls: z.array(httpUrlSchema).max(100_000).default([]),
    tags: z.array(z.string().regex(/^[A-Za-z0-9._:@/+-]{1,1024}$/, 'a tag has no spaces or commas')).max(10_000).default([]),
    soft: z.boolean().default(false),
  })
  .strict();
export type PurgeTarget = z.infer<typeof purgeTargetSchema>;

export const purgeItemResultSchema = z.object({
  kind: z.enum(['url', 'tag']),
  target: z.string(),
  ok: z.boolean(),
  /** The provider's purge / invalidation id when it gave one. */
  id: z.string().nullable(),
  error: z.string().nullable(),
  /** Where the result came from (edge id for self-hosted edges, else the provider). */
  via: z.string(),
});
export type PurgeItemResult = z.infer<typeof purgeItemResultSchema>;

export const purgeReportSchema = z.object({
  provider: cdnProviderSchema,
  results: z.array(purgeItemResultSchema),
  apiCalls: z.number().int(),
  retries: z.number().int(),
  durationMs: z.number(),
});
export type PurgeReport = z.infer<typeof purgeReportSchema>;

// ——— Best edge and routing ———

export const edgeScoreSchema = z.object({
  edgeId: z.string(),
  url: z.string(),
  region: z.string(),
  eligible: z.boolean(),
  /** Lower is better; null when not eligible. */
  score: z.number().nullable(),
  /** The parts the score adds up, so a person can see why an edge won. */
  parts: z.object({ distance: z.number().nullable(), latency: z.number().nullable(), load: z.number(), bandwidth: z.number() }),
  distanceKm: z.number().nullable(),
  latencyMs: z.number().nullable(),
  load: z.number(),
  availableGbps: z.number(),
  reason: z.string(),
});
export type EdgeScore = z.infer<typeof edgeScoreSchema>;

export const bestUrlAnswerSchema = z.object({
  name: z.string(),
  version: z.string(),
  clientRegion: z.string().nullable(),
  /** How the client's region was found: the --region flag, the CIDR table, the MaxMind file, or not at all. */
  regionSource: z.enum(['region', 'cidr', 'maxmind', 'unknown']),
  url: z.string().nullable(),
  edgeId: z.string().nullable(),
  ranking: z.array(edgeScoreSchema),
});
export type BestUrlAnswer = z.infer<typeof bestUrlAnswerSchema>;

export const routeKinds = ['cdn', 'registry', 'mirror'] as const;
export type RouteKind = (typeof routeKinds)[number];

// ——— Statistics ———

export const cacheOutcomes = ['hit', 'miss', 'unknown'] as const;
export type CacheOutcome = (typeof cacheOutcomes)[number];

/** `POST /api/v1/cdn/transfers`: what a client downloaded through which edge, for the statistics. */
export const cdnClientTransfersSchema = z
  .object({
    transfers: z
      .array(
        z
          .object({
            name: z.string().min(1).max(214),
            version: z.string().min(1).max(128),
            edge_id: z.string().min(1).max(128),
            bytes: z.number().int().positive().max(2 ** 45),
            cache: z.enum(cacheOutcomes),
            duration_ms: z.number().int().nonnegative().max(86_400_000 * 7),
          })
          .strict(),
      )
      .min(1)
      .max(64),
  })
  .strict();
export type CdnClientTransfers = z.infer<typeof cdnClientTransfersSchema>;

const statsTotalsSchema = z.object({ hits: z.number().int(), misses: z.number().int(), unknown: z.number().int(), edgeBytes: z.number(), originBytes: z.number(), hitRate: z.number().nullable() });
export type CdnStatsTotals = z.infer<typeof statsTotalsSchema>;

export const cdnStatsSchema = z.object({
  since: z.string(),
  until: z.string(),
  bucketSeconds: z.number().int(),
  totals: statsTotalsSchema,
  byEdge: z.array(statsTotalsSchema.extend({ edgeId: z.string() })),
  byPackage: z.array(statsTotalsSchema.extend({ name: z.string(), version: z.string() })),
  series: z.array(statsTotalsSchema.extend({ at: z.string() })),
});
export type CdnStats = z.infer<typeof cdnStatsSchema>;

// ——— The section as written (the config file, `PUT /api/v1/cdn/config`, the form) ———

/** The section with durations and sizes written back as text (`60s`, `100MB`), so it parses to the same values again. */
export function writeCdnSection(section: CdnSection): CdnSectionInput {
  const health = section.health;
  return {
    ...section,
    policies: {
      immutable_max_age: formatDuration(section.policies.immutable_max_age),
      short: {
        max_age: formatDuration(section.policies.short.max_age),
        stale_while_revalidate: formatDuration(section.policies.short.stale_while_revalidate),
        stale_if_error: formatDuration(section.policies.short.stale_if_error),
      },
    },
    ...(section.signed_urls ? { signed_urls: { scheme: section.signed_urls.scheme, ttl: formatDuration(section.signed_urls.ttl) } } : {}),
    ...(section.cloudfront ? { cloudfront: { ...section.cloudfront, wait_timeout: formatDuration(section.cloudfront.wait_timeout) } } : {}),
    routing: { ...section.routing, min_size: formatSize(section.routing.min_size) },
    retry: { max_retries: section.retry.max_retries, base_delay: formatDuration(section.retry.base_delay), max_delay: formatDuration(section.retry.max_delay) },
    health_check_interval: formatDuration(section.health_check_interval),
    health: { ...health, timeout: formatDuration(health.timeout), degraded_latency: formatDuration(health.degraded_latency) },
  };
}

/** Where the section holds secret references (never values): shown masked, checked on save. */
export function cdnSecretReferences(section: CdnSection): { path: string; reference: string }[] {
  const found: { path: string; reference: string }[] = [];
  const add = (path: string, reference: string | undefined): void => {
    if (reference !== undefined) found.push({ path, reference });
  };
  add('cloudflare.api_token', section.cloudflare?.api_token);
  add('cloudflare.token_auth_secret', section.cloudflare?.token_auth_secret);
  add('cloudfront.access_key_id', section.cloudfront?.access_key_id);
  add('cloudfront.secret_access_key', section.cloudfront?.secret_access_key);
  add('cloudfront.private_key', section.cloudfront?.private_key);
  add('fastly.api_key', section.fastly?.api_key);
  add('http_purge.purge_token', section.http_purge.purge_token);
  return found;
}

export const cdnSecretStateSchema = z.object({
  path: z.string(),
  /** The `${ENV}` / `file:` reference as configured; the secret itself never leaves the core. */
  reference: z.string(),
  /** What a form shows in place of the value. */
  masked: z.string(),
  /** Whether the reference resolves right now (the variable is set, the file readable and 0600). */
  resolved: z.boolean(),
  problem: z.string().nullable(),
});
export type CdnSecretState = z.infer<typeof cdnSecretStateSchema>;

export const cdnConfigViewSchema = z.object({
  configured: z.boolean(),
  /** The section as written (same names as depot.yaml), or null when no CDN is configured. */
  config: z.record(z.string(), z.unknown()).nullable(),
  secrets: z.array(cdnSecretStateSchema),
});
export type CdnConfigView = z.infer<typeof cdnConfigViewSchema>;

// ——— Edges as the API and the screen show them ———

export const cdnEdgeViewSchema = z.object({
  id: z.string(),
  region: z.string(),
  endpoint: z.string(),
  capacityGbps: z.number(),
  enabled: z.boolean(),
  status: z.enum(['healthy', 'degraded', 'unhealthy', 'unknown']),
  latencyMs: z.number().nullable(),
  throughputBytesPerSec: z.number().nullable(),
  lastCheckAt: z.string().nullable(),
  lastError: z.string().nullable(),
  /** Fraction of capacity in use (0-1), from our transfer counts over the last minute. */
  load: z.number(),
  hitRate: z.number().nullable(),
  hits: z.number().int(),
  misses: z.number().int(),
  edgeBytes: z.number(),
  originBytes: z.number(),
});
export type CdnEdgeView = z.infer<typeof cdnEdgeViewSchema>;

// ——— Requests over HTTP / IPC ———

const packageNameText = z.string().min(1).max(214);
const versionText = z.string().min(1).max(128);

/** `POST /api/v1/cdn/purge`: a package (all of it, or one version), URLs and tags, in any mix. */
export const cdnPurgeRequestSchema = z
  .object({
    package: packageNameText.optional(),
    version: versionText.optional(),
    urls: z.array(httpUrlSchema).max(100_000).default([]),
    tags: purgeTargetSchema.shape.tags,
    soft: z.boolean().default(false),
  })
  .strict()
  .refine((request) => request.version === undefined || request.package !== undefined, { message: 'a version needs its package', path: ['version'] })
  .refine((request) => request.package !== undefined || request.urls.length > 0 || request.tags.length > 0, { message: 'name a package, a URL or a tag' });
export type CdnPurgeRequest = z.infer<typeof cdnPurgeRequestSchema>;
export type CdnPurgeRequestInput = z.input<typeof cdnPurgeRequestSchema>;

export const cdnUploadRequestSchema = z.object({ name: packageNameText, version: versionText }).strict();
export type CdnUploadRequest = z.infer<typeof cdnUploadRequestSchema>;

export const cdnBestUrlRequestSchema = z
  .object({ name: packageNameText, version: versionText, client_ip: z.string().max(64).optional(), region: z.string().min(1).max(64).optional() })
  .strict();
export type CdnBestUrlRequest = z.infer<typeof cdnBestUrlRequestSchema>;

export const cdnStatsRequestSchema = z
  .object({
    /** ISO times; default: the last 24 hours. */
    since: z.string().datetime().optional(),
    until: z.string().datetime().optional(),
    bucket_seconds: z.number().int().min(60).max(86_400 * 7).default(3600),
  })
  .strict();
export type CdnStatsRequest = z.infer<typeof cdnStatsRequestSchema>;

export const providerAnalyticsSchema = z.object({
  provider: cdnProviderSchema,
  since: z.string(),
  until: z.string(),
  requests: z.number(),
  cachedRequests: z.number(),
  bytes: z.number(),
  cachedBytes: z.number(),
  byCacheStatus: z.record(z.string(), z.object({ requests: z.number(), bytes: z.number() })),
});

/** Our view, with the provider's own figures next to it when it has an analytics API and it is on. */
export const cdnStatsAnswerSchema = cdnStatsSchema.extend({
  provider: providerAnalyticsSchema.nullable(),
  providerError: z.string().nullable(),
});
export type CdnStatsAnswer = z.infer<typeof cdnStatsAnswerSchema>;

export const cdnUploadResultSchema = z.object({
  name: z.string(),
  version: z.string(),
  visibility: z.enum(packageVisibilities),
  objects: z.array(z.object({ key: z.string(), size: z.number(), cacheControl: z.string(), policy: z.enum(cachePolicyNames), surrogateKeys: z.array(z.string()) })),
});
