import { z } from 'zod';
import { defineRequests } from './define';
import { jobRecordSchema } from '../domain/jobs';
import {
  mirrorConfigSchema,
  mirrorIdSchema,
  mirrorRankEntrySchema,
  mirrorsSettingsSchema,
  mirrorsSettingsWrittenSchema,
  mirrorsStatsSchema,
  mirrorStatusSchema,
  mirrorViewSchema,
  regionSchema,
  selectionStrategySchema,
} from '../domain/mirrors';

const idInput = z.object({ id: mirrorIdSchema }).strict();

/** A mirror's fields except its id; absent ones keep their value (`PATCH /api/v1/mirrors/{id}`). */
export const mirrorChangesSchema = z
  .object({
    url: mirrorConfigSchema.shape.url,
    region: regionSchema.nullable(),
    priority: mirrorConfigSchema.shape.priority.unwrap(),
    weight: mirrorConfigSchema.shape.weight.unwrap(),
    capacity: mirrorConfigSchema.shape.capacity.unwrap(),
    sync_to: z.string().min(1).max(2048).nullable(),
    enabled: z.boolean(),
  })
  .partial()
  .strict();
export type MirrorChanges = z.infer<typeof mirrorChangesSchema>;

/** One check in a mirror's bounded history (sparklines, the history table). */
export const mirrorCheckSchema = z.object({
  at: z.string(),
  ok: z.boolean(),
  status: mirrorStatusSchema,
  latencyMs: z.number().nullable(),
  error: z.string().nullable(),
});

export const mirrorsChannels = defineRequests({
  'mirrors.list': { input: z.object({}).strict(), output: z.array(mirrorViewSchema), summary: 'The mirror set in order, each with its health, traffic and recent latencies.' },
  'mirrors.get': { input: idInput, output: mirrorViewSchema, summary: 'One mirror.' },
  'mirrors.add': {
    input: z.object({ mirror: mirrorConfigSchema }).strict(),
    output: mirrorViewSchema,
    summary: 'Add a mirror (http:// or https:// only); its health is Unknown until the first check.',
  },
  'mirrors.update': {
    input: z.object({ id: mirrorIdSchema, changes: mirrorChangesSchema }).strict(),
    output: mirrorViewSchema,
    summary: "Change a mirror's fields (null clears region or sync_to); a new URL starts its health afresh.",
  },
  'mirrors.remove': { input: idInput, output: z.object({}), summary: 'Forget a mirror, its health history and its counters.' },
  'mirrors.check': {
    input: z.object({ id: mirrorIdSchema.optional() }).strict(),
    output: z.array(mirrorViewSchema),
    summary: 'Check one mirror (or all) now: fetch and verify its signed index, measure latency and staleness.',
  },
  'mirrors.sync': {
    input: z.object({ ids: z.array(mirrorIdSchema).max(200).optional(), prune: z.boolean().default(false) }).strict(),
    output: jobRecordSchema,
    summary: 'Copy what the mirrors (their sync_to storage URLs) lack, as one job with progress and cancel; the index is written last.',
  },
  'mirrors.stats': { input: z.object({}).strict(), output: mirrorsStatsSchema, summary: 'Totals and, per mirror, status, latency, staleness, downloads, bytes, failures, failovers.' },
  'mirrors.rank': {
    input: z
      .object({
        name: z.string().min(1).max(214),
        version: z.string().min(1).max(256),
        region: regionSchema.optional(),
        strategy: selectionStrategySchema.optional(),
      })
      .strict(),
    output: z.array(mirrorRankEntrySchema),
    summary: 'Who would serve name@version to a client (in a region), in order, with the reason for each place.',
  },
  'mirrors.section.get': {
    input: z.object({}).strict(),
    output: mirrorsSettingsWrittenSchema,
    summary: 'The mirrors section without its list, as written in depot.yaml (60s, 64KiB): strategy, intervals, health, failover, trusted keys.',
  },
  'mirrors.section.set': {
    input: mirrorsSettingsSchema,
    output: mirrorsSettingsWrittenSchema,
    summary: 'Replace the section settings (absent fields take their defaults); durations as 10s/2m, sizes as 64KiB.',
  },
  'mirrors.history': {
    input: z.object({ id: mirrorIdSchema, limit: z.number().int().min(1).max(1000).default(60) }).strict(),
    output: z.array(mirrorCheckSchema),
    summary: "A mirror's recent checks, oldest first.",
  },
});
