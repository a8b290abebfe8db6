import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * Every long-lived process a benchmark starts, stopped by its PID when the benchmark ends, fails or
 * is interrupted. Each PID is also written to `$BENCH_WORK_DIR/pids` so `scripts/run-bench.mjs` can
 * stop what a crashed benchmark left behind.
 */
export class ProcessGroup {
  private readonly children = new Map<number, { child: ChildProcess; exited: Promise<void>; stopSignal: NodeJS.Signals }>();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    void this.stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };

  constructor() {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** Starts a process; `stopSignal` is what ends it gracefully (nginx: SIGQUIT). */
  start(command: string, args: string[], options: SpawnOptions & { stopSignal?: NodeJS.Signals } = {}): ChildProcess {
    const { stopSignal = 'SIGTERM', ...spawnOptions } = options;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    this.children.set(child.pid, { child, exited, stopSignal });
    const workDir = process.env.BENCH_WORK_DIR;
    if (workDir) appendFileSync(path.join(workDir, 'pids'), `${child.pid} ${path.basename(command)}\n`);
    return child;
  }

  /** Graceful signal, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
    const entry = child.pid === undefined ? undefined : this.children.get(child.pid);
    if (!entry || child.pid === undefined) return;
    const pid = child.pid;
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, entry.stopSignal);
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
      }, graceMs);
      await entry.exited;
      clearTimeout(timer);
    }
    this.children.delete(pid);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children.values()].map(({ child }) => this.stop(child).catch(() => undefined)));
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/** Resolves with the first match of `pattern` on the child's stdout or stderr; rejects if it exits first. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output: ${seen.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) finish(null, match);
    };
    const onExit = (code: number | null): void => finish(new Error(`exited with ${code} before printing ${pattern}; output: ${seen.slice(-2000)}`));
    const finish = (error: Error | null, match?: RegExpExecArray): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(match as RegExpExecArray);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Keeps reading a child's output so a full pipe never blocks it; returns the last bytes for error messages. */
export function drainOutput(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}

/** A port that was free a moment ago (for servers that cannot report the port they took). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until `probe` succeeds: readiness by answer, never by a fixed sleep. */
export async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** Fields of /proc/<pid>/status in KiB (VmRSS, VmHWM …). */
export function procStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}
