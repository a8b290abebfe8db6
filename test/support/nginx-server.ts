import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface NginxOptions {
  /** The folder served at `/`. */
  root: string;
  /** nginx `limit_rate` per connection (e.g. `2m` = 2 MiB/s); none by default. */
  limitRate?: string;
  /** Extra directives inside `server { … }` (locations, headers). */
  serverConfig?: string;
}

export interface RunningNginx {
  /** http://127.0.0.1:PORT (no trailing slash) */
  url: string;
  port: number;
  /** The master process' PID. */
  pid: number;
  /** One line per request: `"GET /path HTTP/1.1" status bytes_sent "range header"`. */
  accessLog: string;
  readAccessLog(): string;
  /** Graceful stop (`kill -QUIT <pid>`); waits for the exit and removes the prefix folder. */
  stop(): Promise<void>;
  /** Hard kill of the master and its worker (a mirror dying mid-transfer). */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port on 127.0.0.1 nobody listens on right now (a mirror that is down, a server to start there). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function configFor(prefix: string, port: number, options: NginxOptions): string {
  const runAsRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return `${runAsRoot ? 'user root root;\n' : ''}daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 256; }
http {
  types { application/json json; application/octet-stream torshpkg; text/plain minisig pub; }
  default_type application/octet-stream;
  sendfile on;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  log_format ranges '"$request" $status $body_bytes_sent "$http_range"';
  access_log ${prefix}/access.log ranges;
  server {
    listen 127.0.0.1:${port};
    root ${path.resolve(options.root)};
    ${options.limitRate ? `limit_rate ${options.limitRate};` : ''}
    ${options.serverConfig ?? ''}
  }
}
`;
}

/** Starts nginx in the foreground serving `root` on a free 127.0.0.1 port; waits until it answers. */
export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const prefix = mkdtempSync(path.join(os.tmpdir(), 'torsh-nginx-'));
    mkdirSync(path.join(prefix, 'logs'));
    const port = await freePort();
    writeFileSync(path.join(prefix, 'nginx.conf'), configFor(prefix, port, options));
    writeFileSync(path.join(prefix, 'access.log'), '');
    const child = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await answers(port)) {
        ready = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (!ready) {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      running.delete(child);
      let errorLog = '';
      try {
        errorLog = readFileSync(path.join(prefix, 'error.log'), 'utf8');
      } catch {
        // nothing logged
      }
      rmSync(prefix, { recursive: true, force: true });
      lastError = `${output}${errorLog}`;
      if (/Address already in use/.test(lastError)) continue;
      throw new Error(`nginx did not start: ${lastError}`);
    }
    const accessLog = path.join(prefix, 'access.log');
    const finish = async (signal: NodeJS.Signals): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    };
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      pid: child.pid!,
      accessLog,
      readAccessLog: () => readFileSync(accessLog, 'utf8'),
      stop: async () => {
        await finish('SIGQUIT');
        rmSync(prefix, { recursive: true, force: true });
      },
      kill: async () => {
        // The worker holds the connections: kill it too, so transfers break at once.
        const workers = readWorkerPids(child.pid!);
        for (const pid of workers) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await finish('SIGKILL');
      },
    };
  }
  throw new Error(`nginx did not start after 5 attempts: ${lastError}`);
}

/** Children of a PID from /proc (Linux). */
function readWorkerPids(parentPid: number): number[] {
  try {
    const text = readFileSync(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}
