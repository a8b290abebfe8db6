import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost, type RunningHost } from '../../../electron/host/http-host';
import { createRegistryRoutes } from '../../../electron/host/registry-routes';
import { createCoreMirrorsRoutes } from '../../../electron/host/mirrors-routes';
import type { Permission } from '../../../shared/domain/access';
import { makeTempDir } from '../../support/temp-dir';

const adminKey = 'mirrors-admin-key-0123456789abcdef';
let core: Core;
let host: RunningHost;
let base: string;
let cleanup: () => void;
const keys = new Map<string, string>();

async function call(method: string, route: string, key: string | null, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

beforeAll(async () => {
  const temp = makeTempDir();
  cleanup = temp.cleanup;
  core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger });
  core.access.ensureAdminKey(adminKey);
  const context = core.access.localContext();
  const userWith = (name: string, role: string | null, permissions?: Permission[]): string => {
    const user = core.access.createUser(context, { name, email: `${name}@example.com` });
    if (permissions) core.access.createRole(context, `${name}-role`, permissions);
    if (role) core.access.grantUserRole(context, user.id, role, '*');
    return core.access.createKey(context, { userId: user.id }).key;
  };
  keys.set('viewer', userWith('viewer', 'viewer'));
  keys.set('data-scientist', userWith('scientist', 'data-scientist'));
  keys.set('mirror-operator', userWith('operator', 'operator-role', ['ManageMirrors', 'ViewStats']));
  keys.set('admin', adminKey);
  host = await startHttpHost({
    core,
    host: '127.0.0.1',
    port: 0,
    staticDir: null,
    apiRoutes: [createCoreMirrorsRoutes(core), createRegistryRoutes({ registry: core.registry, authorizer: core.authorizer, tmpDir: core.tmpDir, maxPackageBytes: () => 1 << 20, logger: silentLogger })],
  });
  base = `${new URL(host.url).origin}/api/v1`;
}, 60_000);

afterAll(async () => {
  await host?.close();
  await core?.close();
  cleanup?.();
});

describe('/api/v1/mirrors', () => {
  it('viewing needs ViewStats, changes need ManageMirrors (401 without a key, 403 without the permission)', async () => {
    const mirror = { id: 'mirror-eu', url: 'https://eu-mirror.example.com', region: 'eu-central-1' };
    expect((await call('GET', '/mirrors', null)).status).toBe(401);
    expect((await call('GET', '/mirrors', 'tdk_never-issued-key-0000000000000000000')).status).toBe(401);
    expect((await call('GET', '/mirrors', keys.get('viewer')!)).status).toBe(403);
    expect((await call('GET', '/mirrors', keys.get('data-scientist')!)).status).toBe(200);
    expect((await call('GET', '/mirrors/stats', keys.get('data-scientist')!)).status).toBe(200);
    expect((await call('POST', '/mirrors', null, mirror)).status).toBe(401);
    expect((await call('POST', '/mirrors', keys.get('data-scientist')!, mirror)).status).toBe(403);
    expect((await call('POST', '/mirrors/sync', keys.get('data-scientist')!, {})).status).toBe(403);
    const created = await call('POST', '/mirrors', keys.get('mirror-operator')!, mirror);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ config: { id: 'mirror-eu', priority: 1 }, health: { status: 'unknown' } });
    expect((await call('PATCH', '/mirrors/mirror-eu', keys.get('data-scientist')!, { priority: 3 })).status).toBe(403);
    expect((await call('DELETE', '/mirrors/mirror-eu', keys.get('data-scientist')!)).status).toBe(403);
    expect((await call('POST', '/mirrors/mirror-eu/check', keys.get('data-scientist')!)).status).toBe(403);
    expect((await call('PUT', '/mirrors/settings', keys.get('data-scientist')!, { selection_strategy: 'weighted' })).status).toBe(403);
  });

  it('GET/PATCH/DELETE one mirror, settings, stats; bad input is a 400 with the field, unknown ids 404', async () => {
    const admin = keys.get('admin')!;
    expect((await call('POST', '/mirrors', admin, { id: 'mirror-us', url: 'https://us-mirror.example.com', weight: 10 })).status).toBe(201);
    const bad = await call('POST', '/mirrors', admin, { id: 'ftp', url: 'ftp://mirror.example.com' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/url.*http:\/\/ or https:\/\//);
    expect((await call('POST', '/mirrors', admin, { id: 'mirror-us', url: 'https://again.example.com' })).status).toBe(409);
    const patched = await call('PATCH', '/mirrors/mirror-us', admin, { priority: 2, region: 'us-east-1' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ config: { id: 'mirror-us', priority: 2, weight: 10, region: 'us-east-1' } });
    expect((await call('PATCH', '/mirrors/mirror-us', admin, { id: 'renamed' })).status).toBe(400);
    expect((await call('GET', '/mirrors/mirror-us', keys.get('data-scientist')!)).body).toMatchObject({ config: { priority: 2 } });
    expect((await call('GET', '/mirrors/nope', admin)).status).toBe(404);
    expect((await call('GET', '/mirrors/..%2F..%2Fetc', admin)).status).toBe(404);

    const settings = await call('PUT', '/mirrors/settings', admin, { selection_strategy: 'weighted', health_check_interval: '2m' });
    expect(settings.status).toBe(200);
    expect(settings.body).toMatchObject({ selection_strategy: 'weighted', health_check_interval: '2m' });
    expect((await call('GET', '/mirrors/settings', keys.get('data-scientist')!)).body).toMatchObject({ selection_strategy: 'weighted' });
    expect((await call('PUT', '/mirrors/settings', admin, { selection_strategy: 'fastest' })).status).toBe(400);

    const stats = await call('GET', '/mirrors/stats', admin);
    expect(stats.body).toMatchObject({ total: 2, healthy: 0 });
    const list = (await call('GET', '/mirrors', admin)).body as { mirrors: Array<{ config: { id: string } }> };
    expect(list.mirrors.map((view) => view.config.id)).toEqual(['mirror-eu', 'mirror-us']);

    expect((await call('DELETE', '/mirrors/mirror-us', admin)).status).toBe(204);
    expect((await call('DELETE', '/mirrors/mirror-us', admin)).status).toBe(404);
    expect((await call('GET', '/mirrors/rank?name=resnet&version=1.0.0', keys.get('data-scientist')!)).body).toMatchObject({ ranking: [{ id: 'mirror-eu', eligible: false }] });
    expect((await call('GET', '/mirrors/rank', admin)).status).toBe(400);
    expect((await call('PUT', '/mirrors', admin, {})).status).toBe(405);
    const audit = core.access.audit(core.access.localContext(), {});
    expect(audit.map((event) => event.action)).toEqual(expect.arrayContaining(['mirror.add', 'mirror.update', 'mirror.remove', 'mirror.settings']));
  });
});
