import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from './cli-process';

export interface RunningServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A crashed test run must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Resolves when the process has exited (create it right after spawning). */
export function exitOf(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
export async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Spawns a server on port 0 and waits for the line that names its port (never a fixed sleep). */
function startServer(command: string, args: string[], portLine: RegExp, dataDir: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunningServer> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = exitOf(child);
  const stop = async (): Promise<void> => {
    await terminate(child, exited);
    running.delete(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${path.basename(command)} did not start in ${timeoutMs} ms: ${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      if (output.length < 20_000) output += chunk.toString();
      const match = portLine.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        const port = Number(match[1]);
        resolve({ endpoint: `http://127.0.0.1:${port}`, port, dataDir, child, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(command)} exited with ${code}: ${output}`));
    });
  });
}

/**
 * s3rver in its own process (an in-process server deadlocks with synchronous clients). Pass the
 * `port` and `dataDir` of a killed one to bring it back with its objects (a region coming back).
 */
export function startS3rver(buckets: string[], again: { port: number; dataDir: string } | null = null): Promise<RunningServer> {
  const dataDir = again?.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'torsh-s3rver-'));
  const args = [path.join(projectRoot, 'node_modules', 's3rver', 'bin', 's3rver.js'), '-d', dataDir, '-a', '127.0.0.1', '-p', String(again?.port ?? 0), '--silent'];
  for (const bucket of buckets) args.push('--configure-bucket', bucket);
  // Without the legacy provider, ListObjectsV2 pagination answers InternalError.
  return startServer(process.execPath, args, /listening on 127\.0\.0\.1:(\d+)/, dataDir, { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' });
}

/** Azurite's blob service; it checks shared keys and SAS, unlike s3rver. */
export function startAzurite(): Promise<RunningServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'torsh-azurite-'));
  const bin = path.join(projectRoot, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js');
  const args = [bin, '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', dataDir, '--silent', '--disableTelemetry', '--skipApiVersionCheck'];
  return startServer(process.execPath, args, /listens on http:\/\/127\.0\.0\.1:(\d+)/, dataDir, process.env);
}

/** Azurite's well-known development account. */
export const azuriteAccount = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

export const s3rverCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
