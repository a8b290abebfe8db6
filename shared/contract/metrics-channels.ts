import { z } from 'zod';
import { defineRequests } from './define';
import {
  alertHistoryEntrySchema,
  alertRuleInputSchema,
  alertStatusSchema,
  metricsReportSchema,
  reportRangeSchema,
  seriesQuerySchema,
  seriesSchema,
} from '../domain/metrics';

const ruleId = z.string().min(1).max(64);

export const metricsChannels = defineRequests({
  'metrics.series': { input: seriesQuerySchema, output: seriesSchema, summary: 'One metric over a time range, one point per step.' },
  'metrics.report': { input: reportRangeSchema, output: metricsReportSchema, summary: 'Totals, bandwidth, duration percentiles, error rate and top packages over a range.' },
  'metrics.exportReport': {
    input: z.object({ from: z.number().int().min(0), to: z.number().int().min(0), format: z.enum(['json', 'csv']) }).strict(),
    output: z.object({ filename: z.string(), contentType: z.string(), body: z.string() }),
    summary: 'The report over a range as a JSON or CSV file.',
  },
  'metrics.alerts': { input: z.object({}).strict(), output: z.array(alertStatusSchema), summary: 'Every alert rule with its state.' },
  'metrics.alertHistory': {
    input: z.object({ ruleId: ruleId.optional(), limit: z.number().int().min(1).max(1_000).default(100) }).strict(),
    output: z.array(alertHistoryEntrySchema),
    summary: 'State changes of alert rules, newest first.',
  },
  'metrics.saveRule': { input: alertRuleInputSchema, output: alertStatusSchema, summary: 'Create or replace an alert rule.' },
  'metrics.removeRule': { input: z.object({ id: ruleId }).strict(), output: z.object({}), summary: 'Delete an alert rule and its history.' },
  'metrics.acknowledge': { input: z.object({ id: ruleId }).strict(), output: alertStatusSchema, summary: 'Acknowledge a firing alert.' },
  'metrics.silence': {
    input: z.object({ id: ruleId, durationMs: z.number().int().min(60_000).max(30 * 24 * 3_600_000).nullable() }).strict(),
    output: alertStatusSchema,
    summary: 'Silence an alert rule’s notifications for a while (null lifts the silence).',
  },
});
