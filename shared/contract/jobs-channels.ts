import { z } from 'zod';
import { defineRequests } from './define';
import { jobRecordSchema, jobStartRequestSchema, jobStatuses } from '../domain/jobs';

const jobIdInput = z.object({ id: z.string().min(1).max(64) }).strict();

export const jobsChannels = defineRequests({
  'jobs.list': {
    input: z.object({ limit: z.number().int().min(1).max(1_000).default(100), status: z.enum(jobStatuses).optional() }).strict(),
    output: z.array(jobRecordSchema),
    summary: 'Jobs, newest first, including history kept across restarts.',
  },
  'jobs.get': { input: jobIdInput, output: jobRecordSchema, summary: 'One job.' },
  'jobs.start': { input: jobStartRequestSchema, output: jobRecordSchema, summary: 'Start a long operation.' },
  'jobs.cancel': { input: jobIdInput, output: jobRecordSchema, summary: 'Cancel a queued or running job.' },
  'jobs.clearHistory': { input: z.object({}).strict(), output: z.object({ removed: z.number().int() }), summary: 'Forget finished jobs.' },
});
