import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServe, type ServingHost } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage, type TestPackageSpec } from '../../support/packages';
import { jsonCall } from '../../support/json-call';

export const adminKey = 'hostile-admin-key-0123456789abcdef';

/** A real `torsh-depot serve` child on a fresh data folder, with an admin key and helpers for raw HTTP. */
export interface ServeHost {
  readonly serving: ServingHost;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  readonly api: string;
  readonly dataDir: string;
  readonly work: string;
  call(method: string, route: string, key?: string | null, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: unknown; headers: Headers }>;
  /** PUTs a file (or bytes) as `name@version`; returns status and parsed body. */
  put(name: string, version: string, file: string | Buffer, key?: string | null, headers?: Record<string, string>): Promise<{ status: number; body: unknown }>;
  publish(spec: TestPackageSpec, key?: string | null): Promise<{ status: number; file: string }>;
  /** A digest of what the registry holds: every listing an admin sees, and the blob files on disk. */
  stateDigest(): Promise<string>;
  stop(): Promise<void>;
}

export async function startServeHost(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeHost> {
  const temp = makeTempDir('torsh-depot-hostile-');
  const dataDir = path.join(temp.dir, 'data');
  const work = path.join(temp.dir, 'work');
  const serving = await startServe(['--port', '0', '--data-dir', dataDir, ...args], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey, ...env });
  const url = new URL(serving.url);
  const origin = url.origin;
  const api = `${origin}/api/v1`;
  const authHeaders = (key?: string | null): Record<string, string> => (key ? { Authorization: `Bearer ${key}` } : {});

  const call: ServeHost['call'] = (method, route, key, body, headers) => jsonCall(api, method, route, key, body, headers);
  const put: ServeHost['put'] = async (name, version, file, key, headers = {}) => {
    const bytes = typeof file === 'string' ? readFileSync(file) : file;
    const response = await fetch(`${api}/packages/${name}/${version}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', ...authHeaders(key), ...headers }, body: new Uint8Array(bytes) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, body: parsed };
  };

  return {
    serving,
    origin,
    port: Number(url.port),
    token: url.searchParams.get('token') ?? '',
    api,
    dataDir,
    work,
    call,
    put,
    async publish(spec, key = adminKey) {
      const file = await makeTestPackage(work, spec);
      return { status: (await put(spec.name, spec.version, file, key)).status, file };
    },
    async stateDigest() {
      const hash = createHash('sha256');
      const search = await call('GET', '/search?q=&per_page=100', adminKey);
      // Download counters legitimately move (downloads are allowed); everything else must not.
      const stable = (value: unknown): string => JSON.stringify(value, (key, inner: unknown) => (key === 'downloads' ? undefined : inner));
      hash.update(stable(search.body));
      const hits = (search.body as { packages: Array<{ name: string }> }).packages;
      for (const { name } of hits) hash.update(stable((await call('GET', `/packages/${name}`, adminKey)).body));
      const access = await call('GET', '/keys', adminKey);
      hash.update(JSON.stringify((access.body as { keys: Array<{ id: string; revoked_at: string | null }> }).keys.map((key) => [key.id, key.revoked_at])));
      for (const file of listFiles(path.join(dataDir, 'blobs'))) hash.update(`${file}:${statSync(file).size}\n`);
      return hash.digest('hex');
    },
    async stop() {
      await serving.stop();
      temp.cleanup();
    },
  };
}

function listFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => (entry.isDirectory() ? listFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)])).sort();
}

export interface RawAnswer {
  /** The status of the first response line, or null when the host closed without one. */
  status: number | null;
  text: string;
  /** True when the host closed the connection (rather than the client giving up). */
  closed: boolean;
}

/**
 * Writes raw bytes to the host on a fresh TCP connection and reads what comes back until the host
 * closes or `timeoutMs` passes. `endAfterWrite` half-closes, so a request that waits for more body
 * ends instead of stalling.
 */
export function rawExchange(port: number, chunks: Buffer | Buffer[], options: { timeoutMs?: number; endAfterWrite?: boolean; localAddress?: string; host?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: options.host ?? '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      // `100 Continue` (Node sends it for `Expect: 100-continue`) is not the answer: the final status follows it.
      const match = /^(?:HTTP\/1\.1 100 Continue\r\n\r\n)*HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match?.[1] ? Number(match[1]) : null, text, closed });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 5_000);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      for (const chunk of Array.isArray(chunks) ? chunks : [chunks]) socket.write(chunk);
      if (options.endAfterWrite ?? true) socket.end();
    });
  });
}
