import { drainOutput, type ProcessGroup } from './processes';

export interface CurlResult {
  httpCode: number;
  /** Seconds, as curl measures the transfer (without its own start-up). */
  seconds: number;
  downloaded: number;
  uploaded: number;
}

/** Runs curl (tracked by the group, so an interrupted run stops it) and reads its `-w` figures. */
export async function curl(group: ProcessGroup, args: string[]): Promise<CurlResult> {
  const child = group.start('curl', ['-sS', '-w', '\\n%{http_code} %{time_total} %{size_download} %{size_upload}', ...args]);
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(-4096)));
  const tail = drainOutput(child);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  await group.stop(child);
  if (code !== 0) throw new Error(`curl ${args.join(' ')} exited with ${code}: ${tail()}`);
  const figures = stdout.trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
  const [httpCode = 0, seconds = 0, downloaded = 0, uploaded = 0] = figures;
  return { httpCode, seconds, downloaded, uploaded };
}
