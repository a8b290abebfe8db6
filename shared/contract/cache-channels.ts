import { z } from 'zod';
import { defineRequests } from './define';
import { cacheEntrySchema, cacheStatsSchema } from '../domain/cache';

export const cacheChannels = defineRequests({
  'cache.stats': { input: z.object({}).strict(), output: cacheStatsSchema, summary: 'Hits, misses, evictions and size of the package cache.' },
  'cache.list': { input: z.object({}).strict(), output: z.array(cacheEntrySchema), summary: 'What the package cache holds (scan cache).' },
  'cache.clean': {
    input: z.object({}).strict(),
    output: z.object({ removedEntries: z.number().int(), freedBytes: z.number().int() }),
    summary: 'Remove everything from the package cache.',
  },
});
