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
    source: z.union([z.object({ kind: z.literal('registry') }).strict(), z.object({ kind: z.literal('packages'), glob: z.string().min(1), visibility: z.enum(['public', 'private', 'any']).default('any') }).strict()]).default({ kind: 'registry' }),
    schedule: cronSchema.optional(),
    strategy: backupStrategySchema.default('incremental'),
    keep: retentionPolicySchema.optional(),
    verify: z.object({ schedule: cronSchema, readDataSubset: z.number().gt(0).max(100).default(5) }).strict().optional(),
  })
  .strict();

export const backupSectionSchema = z.object({ repositories: z.array(backupRepositorySchema).default([]) }).strict();
export type BackupSection = z.infer<typeof backupSectionSchema>;
export type BackupRepositoryConfig = z.infer<typeof backupRepositorySchema>;
