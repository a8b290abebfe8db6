import { chmodSync, linkSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { drainOutput, freePort, waitForOutput, waitUntil, type ProcessGroup } from './processes';
import { curl } from './curl';

/** The project folder: run-bench passes it; a bundle in dist/bench/ finds it two levels up. */
export const projectRoot = process.env.BENCH_PROJECT_ROOT ?? path.resolve(__dirname, '..', '..');

export interface RunningServer {
  origin: string;
  /** What the server printed to open it (serve: the UI URL with its session token). */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** `torsh-depot serve` from the built bin (dist/cli.cjs), on a free port of 127.0.0.1. */
export async function startServe(group: ProcessGroup, dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const child = group.start(process.execPath, [path.join(projectRoot, 'bin', 'torsh-depot.cjs'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, ...env },
  });
  const match = await waitForOutput(child, /listening on (http:\/\/\S+)/, 120_000);
  drainOutput(child);
  const url = match[1] as string;
  return { origin: new URL(url).origin, url, pid: child.pid as number, stop: () => group.stop(child) };
}

/**
 * Debian's nginx in the foreground (`daemon off;`), every path under `dir`, serving `dir/www` with
 * sendfile, and accepting WebDAV PUTs under /upload/. Stopped by PID with SIGQUIT.
 */
export async function startNginx(group: ProcessGroup, dir: string): Promise<RunningServer & { www: string }> {
  const port = await freePort();
  const www = path.join(dir, 'www');
  mkdirSync(path.join(www, 'upload'), { recursive: true });
  // Workers run as nobody when we are root: they must reach the files.
  allowTraverse(dir);
  chmodSync(dir, 0o755);
  chmodSync(www, 0o755);
  chmodSync(path.join(www, 'upload'), 0o777);
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `${nginxPreamble(dir)}
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location /upload/ {
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 0;
      client_body_buffer_size 1m;
    }
  }
}
`,
  );
  const child = group.start('nginx', ['-p', dir, '-c', conf, '-e', `${dir}/error.log`], { stopSignal: 'SIGQUIT' });
  const output = drainOutput(child);
  const origin = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_resolve, reject) => child.once('exit', (code) => reject(new Error(`nginx exited with ${code}: ${output()}`))));
  exited.catch(() => undefined);
  await Promise.race([waitUntil(() => httpStatus(`${origin}/`).then((status) => status > 0), 'nginx'), exited]);
  return { origin, url: origin, pid: child.pid as number, www, stop: () => group.stop(child) };
}

/** `file` in nginx's root as a hard link (the very bytes, not a copy), readable by its workers; returns its URL. */
export function linkIntoNginx(nginx: RunningServer & { www: string }, file: string): string {
  const served = path.join(nginx.www, path.basename(file));
  linkSync(file, served);
  chmodSync(served, 0o644);
  return `${nginx.origin}/${path.basename(file)}`;
}

/** The start of an nginx.conf running in the foreground with pid, logs and every temp path under `dir`; ends inside `http {`. */
export function nginxPreamble(dir: string): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body_temp;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;`;
}

/** Lets other users pass through our temp folders (mkdtemp makes them 0700) down to `dir`. */
function allowTraverse(dir: string): void {
  const tmp = path.resolve(os.tmpdir());
  for (let folder = path.dirname(path.resolve(dir)); folder.startsWith(tmp + path.sep); folder = path.dirname(folder)) {
    chmodSync(folder, (statSync(folder).mode & 0o7777) | 0o011);
  }
}

export function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET' }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `serve` in a fresh `dataDir` (created here) with `adminKey`, holding `pkg` published through the HTTP API. */
export async function startServeWithPackage(group: ProcessGroup, dataDir: string, adminKey: string, pkg: { file: string; name: string; version: string }): Promise<RunningServer> {
  mkdirSync(dataDir, { recursive: true });
  const serve = await startServe(group, dataDir, { TORSH_DEPOT_ADMIN_KEY: adminKey });
  const published = await curl(group, ['-H', 'Expect:', '-H', `Authorization: Bearer ${adminKey}`, '-T', pkg.file, '-o', '/dev/null', `${serve.origin}/api/v1/packages/${pkg.name}/${pkg.version}`]);
  if (published.httpCode !== 201) throw new Error(`publish answered ${published.httpCode}`);
  return serve;
}
