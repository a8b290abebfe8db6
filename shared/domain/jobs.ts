import { z } from 'zod';
import { errorEnvelopeSchema } from '../errors';

export const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const finishedJobStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

/** Parameters of every kind of job the core can start from the contract. Later capabilities add kinds here. */
export const jobParamsByKind = {
  'data-folder-check': z.object({
    /** How many MiB to write, fsync and read back while measuring the data folder's disk. */
    sizeMiB: z.number().int().min(1).max(16_384).default(256),
  }),
} as const;
export type JobKind = keyof typeof jobParamsByKind;
export const jobKinds = Object.keys(jobParamsByKind) as JobKind[];

export const jobStartRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('data-folder-check'), params: jobParamsByKind['data-folder-check'] }),
]);
export type JobStartRequest = z.input<typeof jobStartRequestSchema>;

export const jobRecordSchema = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  status: z.enum(jobStatuses),
  /** 0..1, or null while the amount of work is unknown. */
  progress: z.number().min(0).max(1).nullable(),
  message: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  result: z.unknown().nullable(),
  error: errorEnvelopeSchema.nullable(),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** What the data folder check finds, shown in the UI and kept in the job's result. */
export const dataFolderCheckResultSchema = z.object({
  databaseIntegrity: z.string(),
  bytesTested: z.number().int(),
  writeBytesPerSecond: z.number(),
  readBytesPerSecond: z.number(),
  freeBytes: z.number().nullable(),
});
export type DataFolderCheckResult = z.infer<typeof dataFolderCheckResultSchema>;
