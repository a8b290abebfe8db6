import { z } from 'zod';
import { secretReferenceSchema, sizeSchema } from './config-values';

/**
 * The `backup:` section of depot.yaml (and the shape HTTP bodies and forms validate with). Names
 * match the CLI flags: `repo` ↔ `--repo`, `keep.daily` ↔ `--keep-daily`, `readDataSubset` ↔
 * `--read-data-subset`.
 */
const cronSchema = z
  .string()
  .regex(/^(\S+\s+){4}\S+$/, 'a cron expression has five fields: minute hour day-of-month month day-of-week');

/** What a backup takes: the whole registry, a set (name glob and visibility), or one version. */
export const backupSetSchema = z.union([
  z.object({ kind: z.literal('registry') }).strict(),
  z.object({ kind: z.literal('packages'), glob: z.string().min(1).max(200), visibility: z.enum(['public', 'internal', 'private', 'any']).default('any') }).strict(),
  z.object({ kind: z.literal('version'), name: z.string().min(1).max(214), version: z.string().min(1).max(128) }).strict(),
]);
export type BackupSet = z.infer<typeof backupSetSchema>;

export const backupStrategySchema = z.enum(['full', 'incremental', 'differential']);

export const retentionPolicySchema = z
  .object({
    last: z.number().int().min(0).optional(),
    hourly: z.number().int().min(0).optional(),
    daily: z.number().int().min(0).optional(),
    weekly: z.number().int().min(0).optional(),
    monthly: z.number().int().min(0).optional(),
    yearly: z.number().int().min(0).optional(),
    within: z.string().regex(/^(\d+y)?(\d+m)?(\d+d)?(\d+h)?$/, 'a duration like 1y2m3d4h').optional(),
    tags: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const backupRepositorySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    /** A storage URL: file:///path, s3://bucket/prefix?endpoint=…, azure://…, gs://… */
    repo: z.string().min(1),
    passphrase: secretReferenceSchema,
    /** Write-only repositories: the age identity that reads data back (restore, verify --read-data), as a reference. */
    identity: secretReferenceSchema.optional(),
    /** Write-only mode: data sealed to these age recipients. */
    recipients: z.array(z.string().regex(/^age1[0-9a-z]+$/)).default([]),
    chunker: z.object({ min: sizeSchema, avg: sizeSchema, max: sizeSchema }).optional(),
    compression: z
      .object({ codec: z.enum(['zstd', 'brotli', 'none']).default('zstd'), level: z.number().int().min(0).max(19).default(3) })
      .strict()
      .refine((value) => value.codec !== 'brotli' || value.level <= 11, 'brotli quality is 0–11')
      .refine((value) => value.codec !== 'zstd' || value.level >= 1, 'zstd level is 1–19')
      .default({ codec: 'zstd', level: 3 }),
    /** What a scheduled run backs up: the whole registry, or versions matching a name glob. */
    source: backupSetSchema.default({ kind: 'registry' }),
    schedule: cronSchema.optional(),
    strategy: backupStrategySchema.default('incremental'),
    keep: retentionPolicySchema.optional(),
    verify: z.object({ schedule: cronSchema, readDataSubset: z.number().gt(0).max(100).default(5) }).strict().optional(),
  })
  .strict();

export const backupSectionSchema = z.object({ repositories: z.array(backupRepositorySchema).default([]) }).strict();
export type BackupSection = z.infer<typeof backupSectionSchema>;
export type BackupRepositoryConfig = z.infer<typeof backupRepositorySchema>;

export type RetentionPolicyInput = z.infer<typeof retentionPolicySchema>;

// ---- views and requests shared by the HTTP API, the contract and the screen ----

export const backupRepositoryViewSchema = z.object({
  id: z.string(),
  repo: z.string(),
  origin: z.enum(['config', 'api']),
  config: backupRepositorySchema,
  schedules: z.array(z.object({ key: z.string(), cron: z.string(), next: z.string().nullable() })),
});
export type BackupRepositoryView = z.infer<typeof backupRepositoryViewSchema>;

export const snapshotStatsSchema = z.object({ files: z.number(), logicalBytes: z.number(), addedBytes: z.number(), addedChunks: z.number(), storedBytes: z.number(), durationMs: z.number() });

export const snapshotSummarySchema = z.object({
  id: z.string(),
  time: z.string(),
  host: z.string(),
  strategy: backupStrategySchema,
  parent: z.string().nullable(),
  source: z.object({ kind: z.enum(['files', 'registry', 'version', 'set']), label: z.string() }),
  tags: z.array(z.string()),
  note: z.string().nullable(),
  fileCount: z.number().int(),
  stats: snapshotStatsSchema,
});
export type SnapshotSummary = z.infer<typeof snapshotSummarySchema>;

export const backupProgressSchema = z.object({
  filesDone: z.number(),
  filesTotal: z.number(),
  bytesRead: z.number(),
  bytesTotal: z.number(),
  bytesNew: z.number(),
  etaSeconds: z.number().nullable(),
});
export type BackupProgressView = z.infer<typeof backupProgressSchema>;

export const backupRunKinds = ['backup', 'verify', 'prune', 'forget', 'restore', 'recovery-point', 'recovery-restore'] as const;
export const backupRunSchema = z.object({
  jobId: z.string(),
  repositoryId: z.string(),
  kind: z.enum(backupRunKinds),
  trigger: z.enum(['manual', 'schedule']),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  snapshotId: z.string().nullable(),
  summary: z.unknown().nullable(),
  error: z.string().nullable(),
  progress: backupProgressSchema.nullable(),
});
export type BackupRun = z.infer<typeof backupRunSchema>;

export const recoveryPointSchema = z.object({
  id: z.string(),
  repositoryId: z.string(),
  snapshotId: z.string(),
  package: z.string(),
  version: z.string(),
  note: z.string().nullable(),
  createdAt: z.string(),
  releasedAt: z.string().nullable(),
});
export type RecoveryPoint = z.infer<typeof recoveryPointSchema>;

export const backupRepositoryStatsSchema = z.object({
  snapshots: z.number().int(),
  logicalBytes: z.number(),
  uniqueBytes: z.number(),
  storedBytes: z.number(),
  chunks: z.number().int(),
  packs: z.number().int(),
  dedupRatio: z.number().nullable(),
});
export type BackupRepositoryStats = z.infer<typeof backupRepositoryStatsSchema>;

export const snapshotDiffSchema = z.object({ from: z.string(), to: z.string(), added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()), newChunks: z.number().int() });
export type SnapshotDiff = z.infer<typeof snapshotDiffSchema>;

export const runBackupRequestSchema = z.object({ set: backupSetSchema.optional(), strategy: backupStrategySchema.optional(), tags: z.array(z.string().min(1).max(100)).max(20).default([]), note: z.string().max(1000).nullable().default(null) }).strict();
export type RunBackupRequest = z.input<typeof runBackupRequestSchema>;
export const verifyRequestSchema = z.object({ readData: z.boolean().default(false), readDataSubset: z.number().gt(0).max(100).optional() }).strict();
export type VerifyRequest = z.input<typeof verifyRequestSchema>;
export const forgetRequestSchema = z.object({ keep: retentionPolicySchema, dryRun: z.boolean().default(true), prune: z.boolean().default(false) }).strict();
export type ForgetRequest = z.input<typeof forgetRequestSchema>;
export const pruneRequestSchema = z.object({ dryRun: z.boolean().default(false), maxUnused: z.number().min(0).max(100).optional() }).strict();
export type PruneRequest = z.input<typeof pruneRequestSchema>;
export const restoreRequestSchema = z.object({ snapshot: z.string().regex(/^[0-9a-f]{4,64}$/), target: z.string().min(1), paths: z.array(z.string().min(1)).optional() }).strict();
export type RestoreRequest = z.input<typeof restoreRequestSchema>;
export const recoveryPointRequestSchema = z.object({ repository: z.string().min(1), name: z.string().min(1).max(214), version: z.string().min(1).max(128), note: z.string().max(1000).nullable().default(null) }).strict();
export type RecoveryPointRequest = z.input<typeof recoveryPointRequestSchema>;

export const retentionGroupSchema = z.object({
  group: z.string(),
  keep: z.array(z.object({ id: z.string(), time: z.string(), reasons: z.array(z.string()) })),
  remove: z.array(z.object({ id: z.string(), time: z.string(), reasons: z.array(z.string()) })),
});
export type RetentionGroup = z.infer<typeof retentionGroupSchema>;
