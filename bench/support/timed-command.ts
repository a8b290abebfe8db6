import { drainOutput, type ProcessGroup } from './processes';

/** Runs a command to completion (tracked by the group) and returns its wall time in seconds. */
export async function timedCommand(group: ProcessGroup, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ seconds: number; stdout: string }> {
  const started = performance.now();
  const child = group.start(command, args, { env });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(-65_536)));
  const tail = drainOutput(child);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  const seconds = (performance.now() - started) / 1000;
  await group.stop(child);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${tail()}`);
  return { seconds, stdout };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
