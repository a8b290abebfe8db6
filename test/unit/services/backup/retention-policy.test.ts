import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applyRetentionPolicy, parseWithin, type RetentionPolicy } from '../../../../electron/services/backup/retention-policy';

interface ResticFixture {
  snapshots: Array<{ time: string; tags: string[] }>;
  policies: Array<{ flags: string; policy: RetentionPolicy; keep: Record<string, string[]> }>;
}

const fixture = JSON.parse(readFileSync(path.join(__dirname, '../../../fixtures/backup/restic-forget-400-daily.json'), 'utf8')) as ResticFixture;
const snapshots = fixture.snapshots.map((snapshot, index) => ({ id: String(index).padStart(4, '0'), ...snapshot }));

describe('retention policy (restic forget semantics)', () => {
  it('has the fabricated history of 400 daily snapshots', () => {
    expect(snapshots).toHaveLength(400);
  });

  it.each(fixture.policies.map((entry) => [entry.flags, entry] as const))('keeps exactly what restic 0.14 keeps with %s, for the same reasons', (_flags, entry) => {
    const decision = applyRetentionPolicy(snapshots, entry.policy);
    const kept = Object.fromEntries(decision.keep.map(({ snapshot, reasons }) => [snapshot.time, reasons]));
    expect(kept).toEqual(entry.keep);
    expect(decision.keep.length + decision.remove.length).toBe(400);
  });

  it('keeps everything with an empty policy, and recovery points always', () => {
    expect(applyRetentionPolicy(snapshots, {}).remove).toEqual([]);
    const withPoint = snapshots.map((snapshot, index) => (index === 5 ? { ...snapshot, tags: ['recovery-point'] } : snapshot));
    const decision = applyRetentionPolicy(withPoint, { last: 1 });
    expect(decision.keep.map(({ snapshot }) => snapshot.id).sort()).toEqual(['0005', '0399']);
    expect(decision.keep.find(({ snapshot }) => snapshot.id === '0005')?.reasons).toEqual(['recovery point']);
  });

  it('parses keep-within durations and refuses nonsense', () => {
    expect(parseWithin('1y2m3d4h')).toEqual({ years: 1, months: 2, days: 3, hours: 4 });
    expect(() => parseWithin('3 weeks')).toThrow(/not a duration/);
    expect(() => applyRetentionPolicy(snapshots, { daily: -1 })).toThrow(/keep-daily/);
  });
});
