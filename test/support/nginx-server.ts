import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface NginxOptions {
  /** The folder served at `/`. */
  root: string;
  /** nginx `limit_rate` per connection (e.g. `2m` = 2 MiB/s, `512k`); none by default. */
  limitRate?: string;
  /** Extra directives inside `server { … }` (locations, headers). */
  serverConfig?: string;
}

export interface NginxServer {
  /** http://127.0.0.1:PORT (no trailing slash) */
  url: string;
  port: number;
  /** The server's PID (one process: killing it takes the whole server down, as a crashed host would). */
  pid: number;
  /** One line per request: `"$request" $status $bytes_sent "$http_range"`. */
  accessLog: string;
  /** The access log's lines so far. */
  requests(): string[];
  /** The access log as text. */
  readAccessLog(): string;
  /** Graceful stop (SIGQUIT); waits for the exit and removes the prefix folder. A killed server resolves at once. */
  stop(): Promise<void>;
  /** Hard kill (a mirror dying mid-transfer). */
  kill(): Promise<void>;
}
export type RunningNginx = NginxServer;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Debian's nginx in the foreground serving `root` on a free port of 127.0.0.1, every path in its own temp folder. */
export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'torsh-depot-nginx-'));
    allowTraverse(dir);
    allowTraverse(path.join(options.root, 'x'));
    const port = await freePort();
    const accessLog = path.join(dir, 'access.log');
    writeFileSync(accessLog, '');
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      nginxConfig({
        dir,
        port,
        root: path.resolve(options.root),
        http: `types { application/json json; application/octet-stream torshpkg; text/plain minisig pub; }
  log_format ranges '"$request" $status $bytes_sent "$http_range"';
  access_log ${accessLog} ranges;`,
        server: `${options.limitRate ? `limit_rate ${options.limitRate};` : ''}
    ${options.serverConfig ?? ''}`,
        singleProcess: true,
      }),
    );
    const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', `${dir}/error.log`], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error('could not start nginx');
    running.add(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const finish = async (signal: NodeJS.Signals): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    };
    const deadline = Date.now() + 20_000;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await answers(port)) {
        ready = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (!ready) {
      await finish('SIGKILL');
      let errorLog = '';
      try {
        errorLog = readFileSync(path.join(dir, 'error.log'), 'utf8');
      } catch {
        // nothing logged
      }
      rmSync(dir, { recursive: true, force: true });
      lastError = `${output}${errorLog}`;
      if (/Address already in use/.test(lastError)) continue;
      throw new Error(`nginx did not start: ${lastError}`);
    }
    const readAccessLog = (): string => {
      try {
        return readFileSync(accessLog, 'utf8');
      } catch {
        return '';
      }
    };
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      pid: child.pid,
      accessLog,
      readAccessLog,
      requests: () => readAccessLog().split('\n').filter((line) => line !== ''),
      stop: async () => {
        await finish('SIGQUIT');
        rmSync(dir, { recursive: true, force: true });
      },
      kill: () => finish('SIGKILL'),
    };
  }
  throw new Error(`nginx did not start after 5 attempts: ${lastError}`);
}

/** An nginx.conf for the foreground (`daemon off;`) with pid, logs and every temp path under `dir`. */
export function nginxConfig(options: { dir: string; port: number; root?: string; http?: string; server?: string; singleProcess?: boolean }): string {
  const { dir } = options;
  // As root, workers would run as nobody and could not write the cache or read 0700 temp folders.
  const runAsRoot = !options.singleProcess && typeof process.getuid === 'function' && process.getuid() === 0;
  return `${runAsRoot ? 'user root root;\n' : ''}daemon off;
worker_processes 1;
${options.singleProcess ? 'master_process off;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  ${options.http ?? 'access_log off;'}
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${dir}/client_body_temp;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  server {
    listen 127.0.0.1:${options.port};
    ${options.root ? `root ${options.root};` : ''}
    ${options.server ?? ''}
  }
}
`;
}

/** A free TCP port on 127.0.0.1 (for servers the tests start, and for a mirror that is down). */
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

/** Lets other users (nginx workers run as nobody under root) pass through our temp folders (mkdtemp makes them 0700) down to `target`. */
export function allowTraverse(target: string): void {
  const tmp = path.resolve(os.tmpdir());
  for (let folder = path.dirname(path.resolve(target)); folder.startsWith(tmp + path.sep); folder = path.dirname(folder)) {
    chmodSync(folder, (statSync(folder).mode & 0o7777) | 0o011);
  }
}
