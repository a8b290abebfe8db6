import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost, type RunningHost } from '../../../electron/host/http-host';
import { createRegistryRoutes } from '../../../electron/host/registry-routes';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';
import { jsonCall } from '../../support/json-call';

export const adminKey = 'access-admin-key-0123456789abcdef';

export interface AccessTestHost {
  core: Core;
  host: RunningHost;
  base: string;
  work: string;
  /** JSON request with an optional bearer key; returns status and parsed body. */
  call(method: string, route: string, key?: string | null, body?: unknown): Promise<{ status: number; body: unknown; headers: Headers }>;
  /** Builds a package and publishes it with `key`; returns the file (for re-publishing). */
  publish(name: string, version: string, key: string): Promise<{ status: number; file: string }>;
  put(name: string, version: string, file: string, key?: string | null): Promise<number>;
  close(): Promise<void>;
}

/** One in-process core and registry host on 127.0.0.1:0 (fast: many requests, one server). */
export async function startAccessTestHost(options: { maxFailures?: number } = {}): Promise<AccessTestHost> {
  const temp = makeTempDir();
  const core = createCore({
    dataDir: path.join(temp.dir, 'data'),
    shell: 'headless',
    logger: silentLogger,
    failedAuthLimit: { maxFailures: options.maxFailures ?? 1_000_000, windowMs: 60_000 },
  });
  core.access.ensureAdminKey(adminKey);
  const routes = createRegistryRoutes({ registry: core.registry, authorizer: core.authorizer, tmpDir: core.tmpDir, maxPackageBytes: () => 64 * 1024 * 1024, logger: silentLogger });
  const host = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, apiRoutes: [routes] });
  const base = `${new URL(host.url).origin}/api/v1`;
  const work = path.join(temp.dir, 'work');

  const authHeaders = (key?: string | null): Record<string, string> => (key ? { Authorization: `Bearer ${key}` } : {});
  const call: AccessTestHost['call'] = (method, route, key, body) => jsonCall(base, method, route, key, body);
  const put: AccessTestHost['put'] = async (name, version, file, key) => {
    const response = await fetch(`${base}/packages/${name}/${version}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', ...authHeaders(key) }, body: readFileSync(file) });
    await response.arrayBuffer();
    return response.status;
  };
  return {
    core,
    host,
    base,
    work,
    call,
    put,
    async publish(name, version, key) {
      const file = await makeTestPackage(work, { name, version, description: `${name} for access tests` });
      return { status: await put(name, version, file, key), file };
    },
    async close() {
      await host.close();
      await core.close();
      temp.cleanup();
    },
  };
}
