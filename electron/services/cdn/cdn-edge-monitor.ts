import type { CdnSection } from '../../../shared/domain/cdn';
import { probeSettings } from '../mirrors/mirror-manager';
import type { ProbeRepository } from '../probes/probe-repository';
import type { Prober, ProbeTarget, ProbeWatch } from '../probes/prober';
import type { EdgeCandidate } from './edge-selector';

/** Probe kind of CDN edges in the shared probe tables. */
export const edgeProbeKind = 'cdn-edge';

/** Settings while no CDN is configured (no targets, so nothing is probed). */
const idleSettings = { intervalMs: 60_000, timeoutMs: 5_000, thresholds: { failuresToDown: 3, successesToUp: 2, degradedLatencyMs: 2_000 } };

/**
 * CDN edges probed by the one health machinery (kind `cdn-edge`): the same checks, EWMA latency,
 * hysteresis and history as mirrors, fetching each edge's small probe object.
 */
export class CdnEdgeMonitor {
  constructor(
    private readonly prober: Prober,
    private readonly repository: ProbeRepository,
    private readonly section: () => CdnSection | null,
  ) {}

  private targets(): ProbeTarget[] {
    return (this.section()?.edges ?? [])
      .filter((edge) => edge.enabled)
      .map((edge) => ({ kind: edgeProbeKind, id: edge.id, url: edge.endpoint, probePath: edge.probe_path }));
  }

  /** Checks every enabled edge now. */
  async checkAll(): Promise<void> {
    const section = this.section();
    if (!section) return;
    const settings = probeSettings(section);
    await Promise.all(this.targets().map((target) => this.prober.check(target, settings)));
  }

  /** Checks on the section's interval, with jitter, until stopped. */
  watch(): ProbeWatch {
    return this.prober.watch(async () => {
      const section = this.section();
      return { targets: this.targets(), settings: section ? probeSettings(section) : idleSettings };
    });
  }

  /** Folds a finished transfer through an edge into its throughput average. */
  recordTransfer(edgeId: string, bytes: number, durationMs: number): Promise<void> {
    return this.prober.recordTransfer(edgeProbeKind, edgeId, bytes, durationMs);
  }

  /**
   * Every configured edge with what the probes know; `loads` are the edges' own figures (or our
   * transfer counts) as fractions of capacity.
   */
  async candidates(loads: ReadonlyMap<string, number> = new Map()): Promise<EdgeCandidate[]> {
    const states = await this.repository.states(edgeProbeKind);
    return (this.section()?.edges ?? []).map((config) => {
      const health = states.get(config.id);
      return { config, status: health?.status ?? 'unknown', latencyMs: health?.latencyMs ?? null, load: loads.get(config.id) ?? 0 };
    });
  }
}
