// The fair comparison of issue 19: whole processes on both sides (ours is `torsh-depot …` or curl against
// a running `serve`, the peer is the tool a user would pick), the same input, the same run, the order
// alternating round by round, ≥ 3 rounds, median and spread, and each side's output checked after its
// timing (never inside it). Ratio = peer time ÷ our time: ≥ 1 means we are faster.
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log, type BenchRow } from './report';
import type { ProcessGroup } from './processes';
import { median, timedCommand } from './timed-command';

export interface Side {
  /** What the reader sees in the table: `torsh-depot pull`, `curl | tee >(openssl) > f; sync f`. */
  label: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Untimed, before each timed run: remove the previous output, start a fresh server … */
  before?: () => Promise<void> | void;
  /** Untimed, after each timed run: throws when the output is wrong. `last` is the last round (for costly checks). */
  check?: (last: boolean) => Promise<void> | void;
}

export interface Comparison {
  name: string;
  ours: Side;
  peer: Side;
  /** Pass when peer ÷ ours ≥ target. */
  target: number;
  /** Timed in the same rounds and reported beside, without a target (e.g. the bare PUT without fsync). */
  alsoShown?: Side[];
  note?: string;
}

export interface Timings {
  label: string;
  seconds: number[];
  median: number;
  /** CPU seconds (user + system) of each run. */
  cpu: number[];
}

export interface ComparisonResult {
  name: string;
  ours: Timings;
  peer: Timings;
  alsoShown: Timings[];
  /** peer ÷ ours, medians. */
  ratio: number;
  target: number;
  pass: boolean;
}

/** A shell command line as a process (`bash -c`), with `$1 …` bound to `args`: no quoting mistakes. */
export function shell(label: string, script: string, args: string[], extra: Omit<Side, 'label' | 'command' | 'args'> = {}): Side {
  return { label, command: 'bash', args: ['-c', `set -eo pipefail; ${script}`, 'bash', ...args], ...extra };
}

export function timings(label: string, seconds: number[], cpu: number[] = []): Timings {
  return { label, seconds, median: median(seconds), cpu };
}

/** min–max of the rounds, as printed beside a median. */
export function spread(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
}

/**
 * One timed run. GNU time wraps the command (a few ms, the same for both sides) and reports the CPU
 * seconds (user + system) of the whole process tree: a figure the other work on a shared machine
 * barely moves, printed beside the wall time.
 */
async function runSide(group: ProcessGroup, side: Side, last: boolean): Promise<{ seconds: number; cpu: number }> {
  await side.before?.();
  const cpuFile = path.join(os.tmpdir(), `torsh-depot-bench-cpu-${process.pid}`);
  const { seconds } = await timedCommand(group, '/usr/bin/time', ['-q', '-f', '%U %S', '-o', cpuFile, side.command, ...side.args], side.env ?? process.env);
  const [user = 0, system = 0] = readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
  rmSync(cpuFile, { force: true });
  await side.check?.(last);
  return { seconds, cpu: user + system };
}

/** Runs `rounds` alternating rounds: ours first in even rounds, the peer first in odd ones. */
export async function compare(group: ProcessGroup, comparison: Comparison, rounds: number): Promise<ComparisonResult> {
  const sides = [comparison.ours, comparison.peer, ...(comparison.alsoShown ?? [])];
  const seconds = sides.map(() => [] as number[]);
  const cpu = sides.map(() => [] as number[]);
  for (let round = 0; round < rounds; round += 1) {
    const order = sides.map((_side, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      const run = await runSide(group, sides[index] as Side, round === rounds - 1);
      (seconds[index] as number[]).push(run.seconds);
      (cpu[index] as number[]).push(run.cpu);
    }
    log(`${comparison.name}, round ${round + 1}: ${sides.map((side, index) => `${side.label} ${(seconds[index] as number[])[round]?.toFixed(2)} s`).join(', ')}`);
  }
  const [ours, peer, ...alsoShown] = sides.map((side, index) => timings(side.label, seconds[index] as number[], cpu[index]));
  const ratio = (peer as Timings).median / (ours as Timings).median;
  return { name: comparison.name, ours: ours as Timings, peer: peer as Timings, alsoShown, ratio, target: comparison.target, pass: ratio >= comparison.target };
}

/** The table rows of a comparison: the target row, then one information row per side shown beside it. */
export function comparisonRows(result: ComparisonResult, note?: string): BenchRow[] {
  const main: BenchRow = {
    benchmark: result.name,
    ours: result.ours.median,
    unit: 's',
    peerLabel: result.peer.label,
    peer: result.peer.median,
    ratio: result.ratio,
    target: `≥ ${result.target}× (peer ÷ ours)`,
    pass: result.pass,
    oursSeconds: result.ours.median,
    peerSeconds: result.peer.median,
    targetRatio: result.target,
    ...(result.ours.cpu.length > 0 ? { oursCpuSeconds: median(result.ours.cpu) } : {}),
    ...(result.peer.cpu.length > 0 ? { peerCpuSeconds: median(result.peer.cpu) } : {}),
    note: [
      `ours ${result.ours.label}: ${result.ours.seconds.map((value) => value.toFixed(2)).join(', ')} s (spread ${spread(result.ours.seconds)}), CPU ${cpuText(result.ours)}`,
      `peer: ${result.peer.seconds.map((value) => value.toFixed(2)).join(', ')} s (spread ${spread(result.peer.seconds)}), CPU ${cpuText(result.peer)}`,
      note,
    ]
      .filter(Boolean)
      .join('; '),
  };
  const beside = result.alsoShown.map(
    (shown): BenchRow => ({
      benchmark: `${result.name} — beside: ${shown.label}`,
      ours: result.ours.median,
      unit: 's',
      peerLabel: shown.label,
      peer: shown.median,
      ratio: shown.median / result.ours.median,
      target: 'info',
      pass: null,
      oursSeconds: result.ours.median,
      peerSeconds: shown.median,
      note: `${shown.label}: ${shown.seconds.map((value) => value.toFixed(2)).join(', ')} s (spread ${spread(shown.seconds)}), CPU ${cpuText(shown)}`,
    }),
  );
  return [main, ...beside];
}

/** Median CPU seconds (user + system) of a side's runs. */
function cpuText(side: Timings): string {
  return side.cpu.length === 0 ? '—' : `${median(side.cpu).toFixed(2)} s (user + system, median)`;
}
