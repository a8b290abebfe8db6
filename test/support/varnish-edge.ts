import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { exitOf, terminate } from './object-servers';
import { edgeVcl, type EdgeVclOptions } from '../../electron/services/cdn/varnish-vcl';

const run = promisify(execFile);

export interface VarnishEdge {
  id: string;
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  pid: number;
  /** SIGKILL right away (an edge dying mid-transfer). */
  kill(): void;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A real Varnish edge: `varnishd -F -n DIR -a 127.0.0.1:0 -f edge.vcl -s malloc,256m` with the
 * product's VCL; the port it took is read back through `varnishadm debug.listen_address`
 * once the child has started (no fixed sleep). Stopped by PID; its folder removed.
 */
export async function startVarnishEdge(options: EdgeVclOptions, timeoutMs = 30_000): Promise<VarnishEdge> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'torsh-varnish-'));
  // varnishd reads the VCL as its own unprivileged user: mkdtemp's 0700 would hide it.
  chmodSync(dir, 0o755);
  const vcl = path.join(dir, 'edge.vcl');
  writeFileSync(vcl, edgeVcl(options));
  const workDir = path.join(dir, 'n');
  const child = spawn('varnishd', ['-F', '-n', workDir, '-a', '127.0.0.1:0', '-f', vcl, '-s', 'malloc,256m', '-p', 'default_grace=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = exitOf(child);
  const stop = async (): Promise<void> => {
    await terminate(child, exited);
    running.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`varnishd did not start in ${timeoutMs} ms: ${output}`)), timeoutMs);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Child launched OK') || output.includes('said Child starts')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`varnishd exited with ${code}: ${output}`));
      });
    });
    const { stdout } = await run('varnishadm', ['-n', workDir, 'debug.listen_address']);
    const port = Number(/127\.0\.0\.1 (\d+)/.exec(stdout)?.[1]);
    if (!port) throw new Error(`varnishadm did not name a port: ${stdout}`);
    return {
      id: options.edgeId,
      endpoint: `http://127.0.0.1:${port}`,
      port,
      pid: child.pid ?? 0,
      kill: () => {
        // The manager would restart a dead worker: kill the worker (found by its parent's PID) and the manager, as a crashed host would.
        const workers = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
        for (const pid of workers) process.kill(pid, 'SIGKILL');
        child.kill('SIGKILL');
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
