import { z } from 'zod';

export const cacheStatsSchema = z.object({
  hits: z.number().int(),
  misses: z.number().int(),
  evictions: z.number().int(),
  bytes: z.number().int(),
  entries: z.number().int(),
  maxBytes: z.number().int(),
});
export type CacheStatsView = z.infer<typeof cacheStatsSchema>;

export const cacheEntrySchema = z.object({
  digest: z.string(),
  size: z.number().int(),
  name: z.string(),
  version: z.string(),
  registryUrl: z.string(),
  createdAt: z.number(),
  lastAccessAt: z.number(),
  hits: z.number().int(),
});
