import type { MirrorHealth, MirrorStatus } from '../../../../shared/domain/mirrors';
import { formatDuration } from '../../lib/format';

export const statusLabels: Record<MirrorStatus, string> = { healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy', unknown: 'Unknown' };

/** The shared `.status-dot` classes: ok, warn, down; none for unknown (grey). */
export function statusDotClass(status: MirrorStatus): string {
  if (status === 'healthy') return 'status-dot ok';
  if (status === 'degraded') return 'status-dot warn';
  if (status === 'unhealthy') return 'status-dot down';
  return 'status-dot';
}

export function stalenessText(health: MirrorHealth): string {
  if (health.stalenessVersions === null) return '—';
  if (health.stalenessVersions === 0) return 'up to date';
  const behind = `${health.stalenessVersions} change${health.stalenessVersions === 1 ? '' : 's'} behind`;
  return health.stalenessSeconds === null ? behind : `${behind} · ${formatDuration(health.stalenessSeconds)}`;
}

/** "12 s ago" for recent checks; the full time in the cell's title. */
export function agoText(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  return `${formatDuration(Math.max(0, (now - at) / 1000))} ago`;
}
