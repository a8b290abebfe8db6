import { z } from 'zod';
import { defineRequests } from './define';
import { jobRecordSchema } from '../domain/jobs';
import {
  bestUrlAnswerSchema,
  cdnBestUrlRequestSchema,
  cdnConfigViewSchema,
  cdnEdgeViewSchema,
  cdnPurgeRequestSchema,
  cdnStatsAnswerSchema,
  cdnStatsRequestSchema,
  cdnUploadRequestSchema,
  purgeReportSchema,
} from '../domain/cdn';

/** The same names as `/api/v1/cdn` and the `cdn:` section of depot.yaml. */
export const cdnChannels = defineRequests({
  'cdn.config.get': { input: z.object({}).strict(), output: cdnConfigViewSchema, summary: 'The cdn: section as written, secret references masked with whether each resolves.' },
  'cdn.config.set': {
    input: z.object({ cdn: z.record(z.string(), z.unknown()).nullable() }).strict(),
    output: cdnConfigViewSchema,
    summary: 'Replace the cdn: section (null removes it); checked whole — schema, secret references, the MaxMind file — before anything changes.',
  },
  'cdn.edges': { input: z.object({}).strict(), output: z.array(cdnEdgeViewSchema), summary: 'Every edge: status, region, capacity, load, latency and hit rate.' },
  'cdn.edges.check': { input: z.object({}).strict(), output: z.array(cdnEdgeViewSchema), summary: 'Probe every enabled edge now.' },
  'cdn.purge': { input: cdnPurgeRequestSchema, output: purgeReportSchema, summary: 'Purge a package or version (its surrogate key and URLs), URLs and tags; a result per URL and tag.' },
  'cdn.upload': { input: cdnUploadRequestSchema, output: jobRecordSchema, summary: 'Put a version on the origin (blob, signature, index) as a job; private versions are refused on a public origin.' },
  'cdn.bestUrl': { input: cdnBestUrlRequestSchema, output: bestUrlAnswerSchema, summary: 'The edge chosen for a client IP or region, with every edge’s score parts.' },
  'cdn.stats': { input: cdnStatsRequestSchema, output: cdnStatsAnswerSchema, summary: 'Hit rate, edge vs origin bytes, per edge, per package and over time; the provider’s analytics beside them.' },
});
