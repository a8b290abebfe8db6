import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const projectRoot = path.resolve(__dirname, '..', '..');
export const cliBin = path.join(projectRoot, 'bin', 'torsh-depot.cjs');

export function assertBuilt(): void {
  if (!existsSync(path.join(projectRoot, 'dist', 'cli.cjs'))) {
    throw new Error('dist/cli.cjs is missing: run `npm run build` first (npm test does it for you).');
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `torsh-depot` bin to completion. */
export function runCliProcess(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`torsh-depot ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServingHost {
  url: string;
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const serving = new Set<ServingHost>();

// A crashed or interrupted test run must not leave a host behind holding its data-folder lock.
process.once('exit', () => {
  for (const host of serving) host.child.kill('SIGKILL');
});

/** Stops every host this process started; for afterAll, so a failing test still cleans up. */
export async function stopAllServing(): Promise<void> {
  await Promise.all([...serving].map((host) => host.stop()));
}

/** Starts `torsh-depot serve` and waits for its `listening on` line (never a fixed sleep). */
export function startServe(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): Promise<ServingHost> {
  assertBuilt();
  const child = spawn(process.execPath, [cliBin, 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  exited.then(() => {
    for (const host of serving) if (host.child === child) serving.delete(host);
  }, () => undefined);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`serve did not print its URL in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        const host: ServingHost = { url: match[1], child, output: () => ({ stdout, stderr }), stop };
        serving.add(host);
        resolve(host);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
}
