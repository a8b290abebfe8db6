import { z } from 'zod';
import { durationSchema, formatDuration, formatSize, sizeSchema } from './config-values';
import { isKnownRegion } from './regions';

/**
 * The `mirrors:` section of `depot.yaml` — the same names in the config file, the HTTP API
 * (`/api/v1/mirrors`), the CLI flags (`--selection-strategy`, `--health-check-interval` …) and
 * the Mirrors screen. `pull --mirrors FILE` accepts a file holding just this section.
 */

export const selectionStrategies = ['geographic', 'priority', 'weighted', 'least-loaded', 'lowest-latency', 'round-robin'] as const;
export const selectionStrategySchema = z.enum(selectionStrategies);
export type SelectionStrategy = z.infer<typeof selectionStrategySchema>;

/** Words under `/api/v1/mirrors/` that name an action, so no mirror may take them as its id. */
export const reservedMirrorIds = ['stats', 'rank', 'sync', 'settings'] as const;
export const mirrorIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and -')
  .refine((id) => !(reservedMirrorIds as readonly string[]).includes(id), `stats, rank, sync and settings are reserved words, not mirror ids`);

/** A region id from the built-in table (`us-east-1`, `europe-west4`, `westeurope` …) or `lat,lon`. */
export const regionSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isKnownRegion, 'not a known AWS/GCP/Azure region id (us-east-1, europe-west4, westeurope …) nor "lat,lon"');

export const mirrorUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'a mirror URL is http:// or https:// with no credentials in it');

export const mirrorConfigSchema = z
  .object({
    id: mirrorIdSchema,
    url: mirrorUrlSchema,
    region: regionSchema.optional(),
    priority: z.number().int().min(0).max(1000).default(1),
    weight: z.number().int().min(0).max(10_000).default(100),
    /** Concurrent transfers this mirror is expected to carry (least-loaded divides by it). */
    capacity: z.number().int().min(1).max(10_000).default(16),
    /** A storage URL (file://, s3://, azure://, gs://) that `mirror sync` writes to; optional. */
    sync_to: z.string().min(1).max(2048).optional(),
    enabled: z.boolean().default(true),
  })
  .strict();
export type MirrorConfig = z.infer<typeof mirrorConfigSchema>;
export type MirrorConfigInput = z.input<typeof mirrorConfigSchema>;

export const failoverConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    max_retries: z.number().int().min(0).max(100).default(3),
    retry_delay: durationSchema.default(5000),
    auto_fallback: z.boolean().default(true),
    stall_timeout: durationSchema.default(10_000),
    min_rate: sizeSchema.default(64 * 1024),
  })
  .strict();
export type FailoverConfig = z.infer<typeof failoverConfigSchema>;

export const healthThresholdsSchema = z
  .object({
    /** Consecutive failed checks before a mirror goes Unhealthy. */
    failures_to_down: z.number().int().min(1).max(100).default(3),
    /** Consecutive good checks before it comes back Healthy. */
    successes_to_up: z.number().int().min(1).max(100).default(2),
    timeout: durationSchema.default(5000),
    /** Latency above this makes a mirror Degraded. */
    degraded_latency: durationSchema.default(2000),
  })
  .strict();

/** The section without its list: strategy, intervals, thresholds, failover, trust (`mirrors.section.get/set`). */
export const mirrorsSettingsShape = {
  selection_strategy: selectionStrategySchema.default('priority'),
  /** Where this client is (geographic strategy); `--region` and `TORSH_DEPOT_REGION` override it. */
  client_region: regionSchema.optional(),
  health_check_interval: durationSchema.default(60_000),
  health: healthThresholdsSchema.default({ failures_to_down: 3, successes_to_up: 2, timeout: 5000, degraded_latency: 2000 }),
  failover: failoverConfigSchema.default({
    enabled: true,
    max_retries: 3,
    retry_delay: 5000,
    auto_fallback: true,
    stall_timeout: 10_000,
    min_rate: 64 * 1024,
  }),
  /** Public keys (minisign `.pub` files or `RW…` strings) a mirror's `index.json.minisig` must verify with. */
  trusted_keys: z.array(z.string().min(1).max(4096)).max(50).default([]),
  /** Sync mirrors after every publish (desktop setting, also in the file). */
  sync_on_publish: z.boolean().default(false),
};
export const mirrorsSettingsSchema = z.object(mirrorsSettingsShape).strict();
export type MirrorsSettings = z.infer<typeof mirrorsSettingsSchema>;
export type MirrorsSettingsInput = z.input<typeof mirrorsSettingsSchema>;

export const mirrorsSectionSchema = z
  .object({ ...mirrorsSettingsShape, list: z.array(mirrorConfigSchema).max(200).default([]) })
  .strict()
  .superRefine((section, context) => {
    const seen = new Set<string>();
    section.list.forEach((mirror, index) => {
      if (seen.has(mirror.id)) context.addIssue({ code: 'custom', path: ['list', index, 'id'], message: `mirror id "${mirror.id}" is used twice` });
      seen.add(mirror.id);
    });
  });
export type MirrorsSection = z.infer<typeof mirrorsSectionSchema>;
export type MirrorsSectionInput = z.input<typeof mirrorsSectionSchema>;

export const mirrorStatuses = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;
export const mirrorStatusSchema = z.enum(mirrorStatuses);
export type MirrorStatus = z.infer<typeof mirrorStatusSchema>;

/** What the health machinery knows of one mirror (the same shape serves CDN edges and replication nodes). */
export const mirrorHealthSchema = z.object({
  status: mirrorStatusSchema,
  lastCheckAt: z.string().nullable(),
  lastError: z.string().nullable(),
  latencyMs: z.number().nullable(),
  throughputBytesPerSec: z.number().nullable(),
  /** Index serial behind the registry's, and seconds since the registry's state the mirror shows. */
  stalenessVersions: z.number().int().nullable(),
  stalenessSeconds: z.number().nullable(),
  tlsExpiresAt: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  consecutiveSuccesses: z.number().int(),
});
export type MirrorHealth = z.infer<typeof mirrorHealthSchema>;

export const mirrorStatsSchema = z.object({
  id: z.string(),
  downloads: z.number().int(),
  bytes: z.number().int(),
  failures: z.number().int(),
  failovers: z.number().int(),
  activeTransfers: z.number().int(),
});
export type MirrorStats = z.infer<typeof mirrorStatsSchema>;

export const mirrorViewSchema = z.object({
  config: mirrorConfigSchema,
  health: mirrorHealthSchema,
  stats: mirrorStatsSchema,
  /** Recent latencies for the sparkline, oldest first (ms; null for a failed check). */
  latencyHistory: z.array(z.number().nullable()),
});
export type MirrorView = z.infer<typeof mirrorViewSchema>;

/** One place in `mirror rank`: why this mirror stands where it does. */
export const mirrorRankEntrySchema = z.object({
  id: z.string(),
  url: z.string(),
  place: z.number().int().nullable(),
  /** False when skipped (unhealthy, lacks the version, disabled). */
  eligible: z.boolean(),
  reason: z.string(),
  score: z.number().nullable(),
});
export type MirrorRankEntry = z.infer<typeof mirrorRankEntrySchema>;

/**
 * `index.json` at a mirror's root (docs/formats/mirror-layout.md). Written last by `mirror sync`,
 * signed as `index.json.minisig`; clients trust its digests only after that signature verifies.
 */
export const mirrorIndexFormat = 'torsh-depot-mirror/1';
export const mirrorIndexEntrySchema = z
  .object({
    name: z.string().min(1).max(214),
    version: z.string().min(1).max(256),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    blake2b: z.string().regex(/^[0-9a-f]{128}$/).nullable(),
    yanked: z.boolean(),
    /** True when `<blob path>.minisig` sits beside the blob. */
    signature: z.boolean(),
    /** Relative to the mirror's root: `packages/<name>/<version>/<file>-<version>.torshpkg`. */
    path: z.string().min(1).max(1024),
  })
  .strict();
export type MirrorIndexEntry = z.infer<typeof mirrorIndexEntrySchema>;

export const mirrorIndexSchema = z
  .object({
    format: z.literal(mirrorIndexFormat),
    /** The registry's change serial this index reflects; rises with every publish, yank or signature. */
    serial: z.number().int().nonnegative(),
    generated_at: z.string(),
    registry: z.string().nullable(),
    /** Key id (16 hex digits, minisign) that signed `index.json.minisig`. */
    key_id: z.string().regex(/^[0-9A-F]{16}$/).nullable(),
    versions: z.array(mirrorIndexEntrySchema),
  })
  .strict();
export type MirrorIndex = z.infer<typeof mirrorIndexSchema>;

/** An index larger than this is refused before parsing (a hostile mirror cannot exhaust memory). */
export const maxMirrorIndexBytes = 64 * 1024 * 1024;

/**
 * The settings as a person writes them (`60s`, `64KiB`): what `mirrors.section.get` answers and the
 * config export writes, so a value read and sent back is never re-scaled (a bare number means seconds).
 */
export const mirrorsSettingsWrittenSchema = z.object({
  selection_strategy: selectionStrategySchema,
  client_region: z.string().optional(),
  health_check_interval: z.string(),
  health: z.object({ failures_to_down: z.number().int(), successes_to_up: z.number().int(), timeout: z.string(), degraded_latency: z.string() }),
  failover: z.object({
    enabled: z.boolean(),
    max_retries: z.number().int(),
    retry_delay: z.string(),
    auto_fallback: z.boolean(),
    stall_timeout: z.string(),
    min_rate: z.string(),
  }),
  trusted_keys: z.array(z.string()),
  sync_on_publish: z.boolean(),
});
export type MirrorsSettingsWritten = z.infer<typeof mirrorsSettingsWrittenSchema>;

export function writeMirrorsSettings(settings: MirrorsSettings): MirrorsSettingsWritten {
  return {
    selection_strategy: settings.selection_strategy,
    ...(settings.client_region !== undefined ? { client_region: settings.client_region } : {}),
    health_check_interval: formatDuration(settings.health_check_interval),
    health: {
      failures_to_down: settings.health.failures_to_down,
      successes_to_up: settings.health.successes_to_up,
      timeout: formatDuration(settings.health.timeout),
      degraded_latency: formatDuration(settings.health.degraded_latency),
    },
    failover: {
      enabled: settings.failover.enabled,
      max_retries: settings.failover.max_retries,
      retry_delay: formatDuration(settings.failover.retry_delay),
      auto_fallback: settings.failover.auto_fallback,
      stall_timeout: formatDuration(settings.failover.stall_timeout),
      min_rate: formatSize(settings.failover.min_rate),
    },
    trusted_keys: [...settings.trusted_keys],
    sync_on_publish: settings.sync_on_publish,
  };
}

/** `GET /api/v1/mirrors/stats`, `mirror stats`: totals and, per mirror, health and traffic. */
export const mirrorsStatsSchema = z.object({
  total: z.number().int(),
  healthy: z.number().int(),
  /** The registry's change serial the mirrors are measured against. */
  registrySerial: z.number().int(),
  mirrors: z.array(
    z.object({
      id: z.string(),
      status: mirrorStatusSchema,
      latencyMs: z.number().nullable(),
      stalenessVersions: z.number().int().nullable(),
      stalenessSeconds: z.number().nullable(),
      lastCheckAt: z.string().nullable(),
      downloads: z.number().int(),
      bytes: z.number().int(),
      failures: z.number().int(),
      failovers: z.number().int(),
    }),
  ),
});
export type MirrorsStats = z.infer<typeof mirrorsStatsSchema>;

/** What one `mirror sync` run did to one target (the job's result, the CLI's summary). */
export const mirrorSyncResultSchema = z.object({
  target: z.string(),
  serial: z.number().int(),
  copied: z.number().int(),
  copiedBytes: z.number().int(),
  skipped: z.number().int(),
  pruned: z.number().int(),
  versions: z.number().int(),
});
export type MirrorSyncResult = z.infer<typeof mirrorSyncResultSchema>;
