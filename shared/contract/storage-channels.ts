import { z } from 'zod';
import { defineRequests } from './define';
import { jobRecordSchema } from '../domain/jobs';
import {
  blobGcRequestSchema,
  storageBackendConfigSchema,
  storageBackendViewSchema,
  storageObjectViewSchema,
  storageStatsSchema,
  storageUsageSchema,
} from '../domain/storage';

const backendId = z.string().min(1).max(63);
const objectKey = z.string().min(1).max(1024);
/** A new value (kept in the secret store), null to forget it, absent to keep it. */
const secretValue = z.string().min(1).max(8192).nullable().optional();

export const storageChannels = defineRequests({
  'storage.list': { input: z.object({}).strict(), output: z.array(storageBackendViewSchema), summary: 'Storage backends: the data folder first, then the configured ones.' },
  'storage.save': {
    input: z
      .object({
        config: storageBackendConfigSchema,
        secrets: z
          .object({
            accessKeyId: secretValue,
            secretAccessKey: secretValue,
            sessionToken: secretValue,
            accountKey: secretValue,
            sasToken: secretValue,
            hmacAccessKey: secretValue,
            hmacSecret: secretValue,
          })
          .strict()
          .default({}),
      })
      .strict(),
    output: z.array(storageBackendViewSchema),
    summary: 'Add or change a backend; its keys go to the OS keychain or the 0600 secrets file, never to settings.',
  },
  'storage.remove': { input: z.object({ id: backendId }).strict(), output: z.array(storageBackendViewSchema), summary: 'Forget a backend and its keys.' },
  'storage.test': {
    input: z.object({ id: backendId }).strict(),
    output: z.object({ ok: z.boolean(), message: z.string(), latencyMs: z.number() }),
    summary: 'Check that a backend answers and accepts its credentials.',
  },
  'storage.usage': { input: z.object({ id: backendId, prefix: z.string().max(1024).default('') }).strict(), output: storageUsageSchema, summary: 'Objects and bytes (and capacity when known).' },
  'storage.browse': {
    input: z.object({ id: backendId, prefix: z.string().max(1024).default(''), cursor: z.string().max(4096).nullable().default(null), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
    output: z.object({ objects: z.array(storageObjectViewSchema), nextCursor: z.string().nullable() }),
    summary: 'One page of keys under a prefix.',
  },
  'storage.head': { input: z.object({ id: backendId, key: objectKey }).strict(), output: storageObjectViewSchema.nullable(), summary: "An object's size, etag, dates and metadata." },
  'storage.copy': {
    input: z.object({ sourceId: backendId, key: objectKey, targetIds: z.array(backendId).min(1).max(20) }).strict(),
    output: jobRecordSchema,
    summary: 'Copy one object to several backends at once, as a job with progress and per-backend results.',
  },
  'storage.collectGarbage': {
    input: blobGcRequestSchema,
    output: jobRecordSchema,
    summary: 'Remove registry blobs no version references, older than the grace period (a job; `dry_run` only reports).',
  },
  'storage.stats': { input: z.object({}).strict(), output: z.array(storageStatsSchema), summary: 'Per-backend calls, bytes, errors and latency.' },
});
