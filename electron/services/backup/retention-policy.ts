import { DepotError } from '../../../shared/errors';

/**
 * restic's `forget` policy (restic 0.14, internal/restic/snapshot_policy.go as documented in
 * "Removing snapshots according to a policy"): snapshots are walked newest first; keep-last keeps
 * the N newest; each keep-hourly/daily/weekly/monthly/yearly rule keeps the newest snapshot of
 * each of its last N buckets (hour, day, ISO week, month, year) that hold a snapshot; keep-within
 * keeps everything newer than the newest snapshot minus the duration; keep-tag keeps snapshots
 * carrying the tag. A snapshot kept by any rule is kept; an empty policy keeps everything.
 * Recovery points (tag `recovery-point`) are always kept until released.
 */
export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** Like restic's `--keep-within`: `2y5m7d3h` (years, months, days, hours). */
  within?: string;
  tags?: string[];
}

export interface PolicySnapshot {
  id: string;
  time: string;
  tags: string[];
}

export interface RetentionDecision<T extends PolicySnapshot> {
  keep: Array<{ snapshot: T; reasons: string[] }>;
  remove: Array<{ snapshot: T; reasons: string[] }>;
}

export const recoveryPointTag = 'recovery-point';

interface Within {
  years: number;
  months: number;
  days: number;
  hours: number;
}

export function parseWithin(text: string): Within {
  const match = /^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$/.exec(text);
  if (!match || text === '') throw new DepotError('VALIDATION_FAILED', `keep-within "${text}" is not a duration like 1y2m3d4h.`, { reason: 'bad-duration' });
  return { years: Number(match[1] ?? 0), months: Number(match[2] ?? 0), days: Number(match[3] ?? 0), hours: Number(match[4] ?? 0) };
}

function isoWeek(date: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  return { year: day.getUTCFullYear(), week: Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7) };
}

type Bucker = (time: Date, position: number) => number;

const buckers: Array<{ rule: keyof Pick<RetentionPolicy, 'last' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly'>; reason: string; bucket: Bucker }> = [
  { rule: 'last', reason: 'last snapshot', bucket: (_time, position) => position },
  { rule: 'hourly', reason: 'hourly snapshot', bucket: (t) => t.getUTCFullYear() * 1_000_000 + (t.getUTCMonth() + 1) * 10_000 + t.getUTCDate() * 100 + t.getUTCHours() },
  { rule: 'daily', reason: 'daily snapshot', bucket: (t) => t.getUTCFullYear() * 10_000 + (t.getUTCMonth() + 1) * 100 + t.getUTCDate() },
  {
    rule: 'weekly',
    reason: 'weekly snapshot',
    bucket: (t) => {
      const { year, week } = isoWeek(t);
      return year * 100 + week;
    },
  },
  { rule: 'monthly', reason: 'monthly snapshot', bucket: (t) => t.getUTCFullYear() * 100 + t.getUTCMonth() + 1 },
  { rule: 'yearly', reason: 'yearly snapshot', bucket: (t) => t.getUTCFullYear() },
];

export function isEmptyPolicy(policy: RetentionPolicy): boolean {
  return buckers.every(({ rule }) => !policy[rule]) && !policy.within && !(policy.tags && policy.tags.length > 0);
}

/** Decides which snapshots of one group (one source) to keep and why. Pure: the dry run is this. */
export function applyRetentionPolicy<T extends PolicySnapshot>(snapshots: T[], policy: RetentionPolicy): RetentionDecision<T> {
  for (const { rule } of buckers) {
    const count = policy[rule];
    if (count !== undefined && (!Number.isInteger(count) || count < 0)) throw new DepotError('VALIDATION_FAILED', `keep-${rule} must be a whole number ≥ 0.`, { reason: 'bad-policy' });
  }
  const newestFirst = [...snapshots].sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
  const decision: RetentionDecision<T> = { keep: [], remove: [] };
  if (newestFirst.length === 0) return decision;
  const empty = isEmptyPolicy(policy);
  const within = policy.within ? parseWithin(policy.within) : null;
  const latest = new Date(newestFirst[0]?.time ?? 0);
  let withinLimit: number | null = null;
  if (within) {
    const limit = new Date(latest.getTime());
    limit.setUTCFullYear(limit.getUTCFullYear() - within.years, limit.getUTCMonth() - within.months, limit.getUTCDate() - within.days);
    withinLimit = limit.getTime() - within.hours * 3_600_000;
  }
  const state = buckers.map(({ rule }) => ({ count: policy[rule] ?? 0, last: Number.NaN }));
  newestFirst.forEach((snapshot, position) => {
    const time = new Date(snapshot.time);
    const reasons: string[] = [];
    if (empty) reasons.push('no policy');
    if (snapshot.tags.includes(recoveryPointTag)) reasons.push('recovery point');
    for (const tag of policy.tags ?? []) if (snapshot.tags.includes(tag)) reasons.push(`has tag ${tag}`);
    if (withinLimit !== null && time.getTime() > withinLimit) reasons.push(`within ${policy.within ?? ''}`);
    buckers.forEach((bucker, index) => {
      const bucket = state[index];
      if (!bucket || bucket.count <= 0) return;
      const value = bucker.bucket(time, position);
      if (value !== bucket.last) {
        bucket.last = value;
        bucket.count -= 1;
        reasons.push(bucker.reason);
      }
    });
    if (reasons.length > 0) decision.keep.push({ snapshot, reasons });
    else decision.remove.push({ snapshot, reasons: ['matches no keep rule'] });
  });
  return decision;
}
