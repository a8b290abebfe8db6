import { z } from 'zod';

/** What one recorded event is. Errors carry the operation in `name`, accesses the action. */
export const metricEventKinds = ['download', 'upload', 'error', 'access'] as const;
export type MetricEventKind = (typeof metricEventKinds)[number];

/** Series the time-series store answers: counts and bytes per event kind, average durations. */
export const seriesMetrics = ['downloads', 'uploads', 'errors', 'accesses', 'download_bytes', 'upload_bytes', 'download_duration_avg_ms', 'upload_duration_avg_ms'] as const;
export const seriesMetricSchema = z.enum(seriesMetrics);
export type SeriesMetric = z.infer<typeof seriesMetricSchema>;

export const seriesQuerySchema = z
  .object({
    metric: seriesMetricSchema,
    /** Only events of this package (downloads, uploads). */
    name: z.string().min(1).max(214).optional(),
    from: z.number().int().min(0),
    to: z.number().int().min(0),
    /** Width of one point in milliseconds; at least one second. */
    stepMs: z.number().int().min(1_000),
  })
  .strict()
  .refine((query) => query.to > query.from, { message: 'to must be after from', path: ['to'] })
  .refine((query) => (query.to - query.from) / query.stepMs <= 2_000, { message: 'at most 2000 points per series: use a larger step', path: ['stepMs'] });
export type SeriesQuery = z.infer<typeof seriesQuerySchema>;

export const seriesPointSchema = z.object({ t: z.number().int(), value: z.number() });
export const seriesSchema = z.object({
  metric: seriesMetricSchema,
  stepMs: z.number().int(),
  /** Which store answered: raw events, per-minute or per-hour rollups. */
  resolution: z.enum(['raw', 'minute', 'hour']),
  points: z.array(seriesPointSchema),
});
export type MetricSeries = z.infer<typeof seriesSchema>;

export const reportRangeSchema = z
  .object({ from: z.number().int().min(0), to: z.number().int().min(0) })
  .strict()
  .refine((range) => range.to > range.from, { message: 'to must be after from', path: ['to'] });
export type ReportRange = z.infer<typeof reportRangeSchema>;

const durationPercentilesSchema = z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });
const rankedSchema = z.object({ key: z.string(), count: z.number().int(), bytes: z.number().int() });

export const metricsReportSchema = z.object({
  from: z.number().int(),
  to: z.number().int(),
  downloads: z.number().int(),
  uploads: z.number().int(),
  errors: z.number().int(),
  downloadBytes: z.number().int(),
  uploadBytes: z.number().int(),
  /** Bytes per second over the range, downloads and uploads together. */
  bandwidthBytesPerSecond: z.number(),
  /** Milliseconds, estimated from histogram buckets like Prometheus' histogram_quantile. */
  downloadDurationMs: durationPercentilesSchema,
  uploadDurationMs: durationPercentilesSchema,
  /** Failed operations among all operations (downloads + uploads + errors), 0..1. */
  errorRate: z.number(),
  topPackages: z.array(rankedSchema),
  topVersions: z.array(rankedSchema),
  bySource: z.array(rankedSchema),
  byTarget: z.array(rankedSchema),
  errorsByCode: z.array(rankedSchema),
});
export type MetricsReport = z.infer<typeof metricsReportSchema>;

// --- Alerts ---

export const alertKinds = ['maximum', 'minimum', 'max-count', 'max-bytes', 'max-percentage'] as const;
export const alertKindSchema = z.enum(alertKinds);
export type AlertKind = z.infer<typeof alertKindSchema>;

/** What a rule measures over its window (or, for gauges, right now). */
export const alertMetrics = [
  'downloads',
  'uploads',
  'errors',
  'download_bytes',
  'upload_bytes',
  'download_duration_ms',
  'upload_duration_ms',
  'error_rate_percent',
  'cache_bytes',
  'storage_bytes',
  'mirrors_healthy',
  'replication_lag_seconds',
  'replication_hints',
] as const;
export const alertMetricSchema = z.enum(alertMetrics);
export type AlertMetric = z.infer<typeof alertMetricSchema>;

export const countMetrics: readonly AlertMetric[] = ['downloads', 'uploads', 'errors'];
export const bytesMetrics: readonly AlertMetric[] = ['download_bytes', 'upload_bytes'];
export const percentageMetrics: readonly AlertMetric[] = ['error_rate_percent'];
export const gaugeMetrics: readonly AlertMetric[] = ['cache_bytes', 'storage_bytes', 'mirrors_healthy', 'replication_lag_seconds', 'replication_hints'];

/** Which metrics each threshold kind accepts; Maximum and Minimum take any. */
export function metricsForKind(kind: AlertKind): readonly AlertMetric[] {
  if (kind === 'max-count') return countMetrics;
  if (kind === 'max-bytes') return bytesMetrics;
  if (kind === 'max-percentage') return percentageMetrics;
  return alertMetrics;
}

export const alertSeveritySchema = z.enum(['info', 'warning', 'critical']);
export type AlertSeverity = z.infer<typeof alertSeveritySchema>;

const day = 24 * 60 * 60 * 1000;

export const alertRuleInputSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes').optional(),
    name: z.string().trim().min(1, 'a name is required').max(100),
    metric: alertMetricSchema,
    kind: alertKindSchema,
    threshold: z.number().finite().min(0, 'the threshold cannot be negative'),
    /** The window a count, sum, slowest duration or rate is taken over (gauges ignore it). */
    windowMs: z.number().int().min(1_000, 'the window is at least 1 s').max(day, 'the window is at most 24 h (raw events are kept 24 h)'),
    /** How long the condition must hold before the alert fires, like Prometheus' `for`. */
    forMs: z.number().int().min(0).max(7 * day),
    severity: alertSeveritySchema,
    enabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((rule, context) => {
    if (!metricsForKind(rule.kind).includes(rule.metric)) {
      context.addIssue({ code: 'custom', path: ['metric'], message: `${rule.kind} applies to ${metricsForKind(rule.kind).join(', ')}` });
    }
    if (rule.kind === 'max-percentage' && rule.threshold > 100) context.addIssue({ code: 'custom', path: ['threshold'], message: 'a percentage is at most 100' });
  });
export type AlertRuleInput = z.input<typeof alertRuleInputSchema>;

export const alertRuleSchema = z.object({
  id: z.string(),
  name: z.string(),
  metric: alertMetricSchema,
  kind: alertKindSchema,
  threshold: z.number(),
  windowMs: z.number().int(),
  forMs: z.number().int(),
  severity: alertSeveritySchema,
  enabled: z.boolean(),
});
export type AlertRule = z.infer<typeof alertRuleSchema>;

export const alertStateSchema = z.enum(['inactive', 'pending', 'firing', 'resolved']);
export type AlertState = z.infer<typeof alertStateSchema>;

export const alertStatusSchema = z.object({
  rule: alertRuleSchema,
  state: alertStateSchema,
  /** When the condition started holding (pending/firing). */
  activeSince: z.number().int().nullable(),
  firedAt: z.number().int().nullable(),
  resolvedAt: z.number().int().nullable(),
  /** Last measured value; null when nothing was measured (no events, no gauge). */
  value: z.number().nullable(),
  acknowledgedAt: z.number().int().nullable(),
  silencedUntil: z.number().int().nullable(),
  evaluatedAt: z.number().int().nullable(),
});
export type AlertStatus = z.infer<typeof alertStatusSchema>;

export const alertHistoryEntrySchema = z.object({
  id: z.number().int(),
  ruleId: z.string(),
  ruleName: z.string(),
  state: z.enum(['pending', 'firing', 'resolved', 'inactive', 'acknowledged', 'silenced']),
  at: z.number().int(),
  value: z.number().nullable(),
  /** True when a silence kept it from notifying. */
  silenced: z.boolean(),
});
export type AlertHistoryEntry = z.infer<typeof alertHistoryEntrySchema>;

/** Pushed after each batch of events is stored (at most about once a second). */
export const metricsUpdatedSchema = z.object({
  at: z.number().int(),
  stored: z.number().int(),
  firing: z.number().int(),
});
export type MetricsUpdated = z.infer<typeof metricsUpdatedSchema>;
