import { writeFileSync } from 'node:fs';

/** One line of the benchmark table: our figure, the peer's figure measured in the same run, the target. */
export interface BenchRow {
  benchmark: string;
  ours: number | null;
  unit: string;
  /** What the peer is (nginx + curl, the idle host, …); empty when the target is absolute. */
  peerLabel: string;
  peer: number | null;
  /** ours / peer. */
  ratio: number | null;
  target: string;
  /** null: for information, no target. */
  pass: boolean | null;
  note?: string;
  /** Whole-process comparisons (bench/support/versus.ts): the medians in seconds, for bench/results/latest.json. */
  oursSeconds?: number;
  peerSeconds?: number;
  /** The ratio (peer ÷ ours) the row must reach. */
  targetRatio?: number;
  /** CPU seconds (user + system), medians: what a loaded machine barely moves. */
  oursCpuSeconds?: number;
  peerCpuSeconds?: number;
}

/** Benchmarks hand their rows (and a markdown breakdown) to `scripts/run-bench.mjs` through the file it names. */
export function writeRows(rows: BenchRow[], details = ''): void {
  const file = process.env.BENCH_RESULT_FILE;
  const text = JSON.stringify({ rows, details }, null, 2);
  if (file) writeFileSync(file, text);
  else process.stdout.write(`${text}\n`);
}

export function ratioOf(ours: number | null, peer: number | null): number | null {
  return ours === null || peer === null || peer === 0 ? null : ours / peer;
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

export function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
