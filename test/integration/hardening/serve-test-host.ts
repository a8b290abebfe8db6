import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { startServe, stopAllServing, type ServingHost } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';

export const adminKey = 'hardening-admin-key-0123456789abcdef';

export interface ServeCall {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

export interface ServeTestHost {
  serve: ServingHost;
  /** `http://127.0.0.1:PORT/api/v1` */
  api: string;
  dataDir: string;
  call(method: string, route: string, key?: string | null, body?: unknown, headers?: Record<string, string>): Promise<ServeCall>;
  /** Creates a user with these grants (scope `*` unless given) and a key for it. */
  user(name: string, grants: Array<string | { role: string; scope: string }>): Promise<{ id: string; key: string }>;
  stop(): Promise<number | null>;
}

/** A real `torsh-depot serve` child process on 127.0.0.1:0 over `dataDir`, with the admin key set. */
export async function startServeHost(dataDir: string, options: { env?: NodeJS.ProcessEnv; args?: string[]; adminKey?: string } = {}): Promise<ServeTestHost> {
  const admin = options.adminKey ?? adminKey;
  const serve = await startServe(['--port', '0', '--data-dir', dataDir, ...(options.args ?? [])], { ...process.env, TORSH_DEPOT_ADMIN_KEY: admin, ...options.env });
  const api = `${new URL(serve.url).origin}/api/v1`;
  const call: ServeTestHost['call'] = async (method, route, key, body, headers = {}) => {
    const response = await fetch(`${api}${route}`, {
      method,
      headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, text, headers: response.headers };
  };
  return {
    serve,
    api,
    dataDir,
    call,
    async user(name, grants) {
      const created = await call('POST', '/users', admin, { name, email: `${name}@example.com` });
      if (created.status !== 201) throw new Error(`user ${name}: ${created.status} ${created.text}`);
      const id = (created.body as { id: string }).id;
      for (const grant of grants) {
        const { role, scope } = typeof grant === 'string' ? { role: grant, scope: '*' } : grant;
        const granted = await call('POST', `/users/${id}/grants`, admin, { role, scope });
        if (granted.status !== 201) throw new Error(`grant ${role} to ${name}: ${granted.status} ${granted.text}`);
      }
      const key = await call('POST', '/keys', admin, { user_id: id });
      if (key.status !== 201) throw new Error(`key for ${name}: ${key.status} ${key.text}`);
      return { id, key: (key.body as { key: string }).key };
    },
    stop: () => serve.stop(),
  };
}

/** Blob digests stored in the data folder's blob store. */
export function storedBlobs(dataDir: string): string[] {
  const dir = path.join(dataDir, 'blobs', 'sha256');
  return existsSync(dir) ? readdirSync(dir).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort() : [];
}

/** Bytes of uploads the host is still receiving (its `.part` temp files). */
export function partialUploadBytes(dataDir: string): number {
  const tmp = path.join(dataDir, 'tmp');
  if (!existsSync(tmp)) return 0;
  return readdirSync(tmp)
    .filter((name) => name.endsWith('.part'))
    .reduce((sum, name) => sum + statSync(path.join(tmp, name)).size, 0);
}

/** A serve over a fresh data folder plus a scratch folder; `finish` (afterAll) stops every host and removes both. */
export async function serveWithScratch(cleanups: Array<() => unknown>, options: Parameters<typeof startServeHost>[1] = {}): Promise<{ host: ServeTestHost; work: string }> {
  const data = makeTempDir();
  const scratch = makeTempDir();
  cleanups.push(data.cleanup, scratch.cleanup);
  return { host: await startServeHost(data.dir, options), work: scratch.dir };
}

export async function finish(cleanups: Array<() => unknown>): Promise<void> {
  await stopAllServing();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}
