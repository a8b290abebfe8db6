import type { FailoverConfig } from '../../../../shared/domain/mirrors';
import type { CircuitBreaker } from '../../retry/circuit-breaker';

/** One place the bytes can come from: a mirror's blob URL, or the registry's own download URL. */
export interface DownloadSource {
  /** The mirror id (`origin` for the registry). */
  id: string;
  url: string;
  /** Sent with every request (the registry's API key); mirrors need none. */
  headers?: Record<string, string>;
  /** Used only once no other source is left (the registry origin under `auto_fallback`). */
  lastResort?: boolean;
}

/** What the bytes must be: from the registry's metadata or a mirror's verified signed index, never a mirror's word. */
export interface ExpectedBlob {
  /** `sha256:<hex>` or bare hex. */
  sha256: string;
  size: number;
}

export type MirrorDownloadEvent =
  | { type: 'start'; size: number; sources: string[] }
  | { type: 'progress'; bytes: number; total: number; rateBytesPerSec: number; etaSeconds: number | null; mirrors: string[] }
  | { type: 'failover'; mirror: string; reason: string; offset: number }
  | { type: 'mirror-bad'; mirror: string; reason: string }
  | { type: 'mirror-dropped'; mirror: string; reason: string }
  | { type: 'mirror-added'; mirror: string; reason: string }
  | { type: 'repair'; mirror: string; reason: string }
  | { type: 'done'; result: MirrorDownloadResult };

export interface MirrorUsage {
  id: string;
  /** Bytes of the final file this source delivered. */
  bytes: number;
  requests: number;
  failures: number;
}

export interface MirrorDownloadResult {
  path: string;
  digest: string;
  size: number;
  durationMs: number;
  /** The source that delivered the most bytes. */
  mirror: string;
  mirrors: MirrorUsage[];
  failovers: number;
  /** Sources caught serving other bytes (wrong size, wrong digest). */
  badMirrors: string[];
  /** Every body byte received, and those not kept (cut-off tails, stolen halves, re-fetches). */
  receivedBytes: number;
  wastedBytes: number;
}

export interface MultiSourceOptions {
  expected: ExpectedBlob;
  /** The mirrors section's failover settings (durations in ms, `min_rate` in bytes/s). */
  failover: FailoverConfig;
  /** Sources fetched at once; the rest wait as standbys, in order. Default 3. */
  maxParallelSources?: number;
  /** Default: 1/64 of the file, between 1 MiB and 16 MiB. */
  segmentBytes?: number;
  signal?: AbortSignal;
  onEvent?: (event: MirrorDownloadEvent) => void;
  /** Milliseconds between progress events (default 250). */
  progressIntervalMs?: number;
  fetchImpl?: typeof fetch;
  /** Per-source circuit breakers that outlive one download (the host keeps one map); fresh ones otherwise. */
  breakers?: Map<string, CircuitBreaker>;
  random?: () => number;
  /** Told of every answer's status and headers (a CDN's cache verdict is read from them). */
  onResponse?: (sourceId: string, response: { status: number; headers: Headers; start: number }) => void;
}
