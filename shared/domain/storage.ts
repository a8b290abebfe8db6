import { z } from 'zod';

const backendId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and -');
const prefix = z.string().max(500).regex(/^[A-Za-z0-9._\-/]*$/, 'letters, digits, . _ - /').default('');
const partSizeMiB = z.number().int().min(5).max(5120).default(16);
const concurrency = z.number().int().min(1).max(64).default(4);
/** S3 and GCS bucket names: 3-63 lower-case letters, digits, dots and hyphens. */
const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, '3-63 lower-case letters, digits, dots and hyphens');
const endpoint = z.url({ protocol: /^https?$/ }).nullable().default(null);

/**
 * A configured storage backend. Never holds a secret: keys, SAS tokens and HMAC secrets live in the
 * secret store under `storage.<id>.<name>` (see `storageSecretNames`).
 */
export const storageBackendConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local'), id: backendId, label: z.string().min(1).max(100), path: z.string().min(1).max(4096) }),
  z.object({
    kind: z.literal('s3'),
    id: backendId,
    label: z.string().min(1).max(100),
    bucket,
    prefix,
    region: z.string().min(1).max(64).default('us-east-1'),
    endpoint,
    forcePathStyle: z.boolean().default(false),
    partSizeMiB,
    concurrency,
    serverSideEncryption: z.enum(['AES256', 'aws:kms']).nullable().default(null),
    kmsKeyId: z.string().max(2048).nullable().default(null),
    storageClass: z.string().max(64).nullable().default(null),
    /** Off for servers that reject streamed (aws-chunked) checksums: s3rver, older MinIO/Ceph. */
    streamedChecksums: z.boolean().default(true),
  }),
  z.object({
    kind: z.literal('azure'),
    id: backendId,
    label: z.string().min(1).max(100),
    account: z.string().regex(/^[a-z0-9]{3,24}$/, '3-24 lower-case letters and digits'),
    container: z.string().min(3).max(63),
    prefix,
    endpoint,
    accessTier: z.enum(['Hot', 'Cool', 'Cold', 'Archive']).nullable().default(null),
    blockSizeMiB: z.number().int().min(1).max(4000).default(8),
    concurrency,
  }),
  z.object({
    kind: z.literal('gcs'),
    id: backendId,
    label: z.string().min(1).max(100),
    bucket,
    prefix,
    partSizeMiB,
    concurrency,
  }),
]);
export type StorageBackendConfig = z.infer<typeof storageBackendConfigSchema>;
export type StorageBackendConfigInput = z.input<typeof storageBackendConfigSchema>;

/** The secrets each kind can use (values come from the secret store or the environment). */
export const storageSecretNames = {
  local: [],
  s3: ['accessKeyId', 'secretAccessKey', 'sessionToken'],
  azure: ['accountKey', 'sasToken'],
  gcs: ['hmacAccessKey', 'hmacSecret'],
} as const satisfies Record<StorageBackendConfig['kind'], readonly string[]>;
export type StorageSecretName = (typeof storageSecretNames)[keyof typeof storageSecretNames][number];
export type StorageCredentials = Partial<Record<StorageSecretName, string>>;

export const storageSettingsSchema = z
  .object({
    backends: z.array(storageBackendConfigSchema).max(50).default([]),
    /** Where the registry keeps package blobs: 'local' (the data folder) or a configured backend id. */
    blobStoreBackendId: z.string().default('local'),
    /** S3/GCS/Azure-backed registries answer downloads with a redirect to a short-lived presigned URL. */
    presignedDownloads: z.boolean().default(false),
  })
  .default({ backends: [], blobStoreBackendId: 'local', presignedDownloads: false });

export const storageStatsSchema = z.object({
  backendId: z.string(),
  gets: z.number().int(),
  puts: z.number().int(),
  deletes: z.number().int(),
  otherCalls: z.number().int(),
  bytesRead: z.number().int(),
  bytesWritten: z.number().int(),
  errors: z.number().int(),
  retries: z.number().int(),
  calls: z.number().int(),
  averageLatencyMs: z.number().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
});
export type StorageStats = z.infer<typeof storageStatsSchema>;

export const storageBackendViewSchema = z.object({
  id: z.string(),
  label: z.string(),
  kind: z.enum(['local', 's3', 'azure', 'gcs']),
  builtIn: z.boolean(),
  description: z.string(),
  /** The settings entry (never a secret); null for the built-in data folder store. */
  config: storageBackendConfigSchema.nullable(),
  /** Names of the secrets that are set; values never leave the core. */
  secretsSet: z.array(z.string()),
  isBlobStore: z.boolean(),
  canPresign: z.boolean(),
});
export type StorageBackendView = z.infer<typeof storageBackendViewSchema>;

export const storageObjectViewSchema = z.object({
  key: z.string(),
  size: z.number().int(),
  lastModified: z.string().nullable(),
  etag: z.string().nullable(),
  contentType: z.string().nullable(),
  cacheControl: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
});
export type StorageObjectView = z.infer<typeof storageObjectViewSchema>;

export const storageUsageSchema = z.object({ objects: z.number().int(), bytes: z.number().int(), capacityBytes: z.number().nullable() });

export const storageCopyResultSchema = z.object({
  backendId: z.string(),
  ok: z.boolean(),
  size: z.number().int().nullable(),
  attempts: z.number().int(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

/**
 * Blob garbage collection: removes registry blobs no version references, older than the grace period,
 * never one being published. The same names in the HTTP body (`dry_run`, `grace_seconds`), the CLI
 * (`gc --dry-run --grace-seconds`) and the Storage screen.
 */
export const defaultBlobGcGraceSeconds = 3_600;
export const blobGcRequestSchema = z
  .object({
    dry_run: z.boolean().default(false),
    grace_seconds: z.number().int().min(0).max(365 * 86_400).default(defaultBlobGcGraceSeconds),
  })
  .strict();
export type BlobGcRequest = z.infer<typeof blobGcRequestSchema>;

export const blobGcResultSchema = z.object({
  dry_run: z.boolean(),
  grace_seconds: z.number().int(),
  /** Blobs looked at. */
  scanned: z.number().int(),
  /** Kept: a version references them. */
  referenced: z.number().int(),
  /** Kept: younger than the grace period (or of unknown age). */
  young: z.number().int(),
  /** Kept: being published right now. */
  in_flight: z.number().int(),
  /** Unreferenced and old enough: removed, or (dry run) what would be. */
  unreferenced: z.number().int(),
  unreferenced_bytes: z.number().int(),
  removed: z.number().int(),
  /** The first unreferenced digests (sha256:…), at most 100. */
  digests: z.array(z.string()),
});
export type BlobGcResult = z.infer<typeof blobGcResultSchema>;
