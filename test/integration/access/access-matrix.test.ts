import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKey, startAccessTestHost, type AccessTestHost } from './access-test-host';

/**
 * Every registry endpoint × every built-in role (plus anonymous, a bad key and a package owner) ×
 * public/internal/private packages, through real HTTP, asserting the exact status.
 */
type Who = 'anonymous' | 'bad-key' | 'viewer' | 'data-scientist' | 'ml-engineer' | 'maintainer' | 'admin' | 'owner';
type Visibility = 'public' | 'internal' | 'private';
type Kind = 'read' | 'write' | 'administer';

const roles = ['viewer', 'data-scientist', 'ml-engineer', 'maintainer'] as const;
const everyone: Who[] = ['anonymous', 'bad-key', ...roles, 'admin', 'owner'];
const visibilities: Visibility[] = ['public', 'internal', 'private'];

let t: AccessTestHost;
const keys = new Map<Who, string | null>();
const files = new Map<Visibility, string>();
let ownerId = '';
let spareUserId = '';

beforeAll(async () => {
  t = await startAccessTestHost();
  keys.set('anonymous', null);
  keys.set('bad-key', 'tdk_this-key-was-never-issued-000000000000000');
  keys.set('admin', adminKey);
  for (const who of [...roles, 'owner'] as const) {
    const user = await t.call('POST', '/users', adminKey, { name: who, email: `${who}@example.com` });
    expect(user.status).toBe(201);
    const id = (user.body as { id: string }).id;
    if (who === 'owner') ownerId = id;
    else expect((await t.call('POST', `/users/${id}/grants`, adminKey, { role: who, scope: '*' })).status).toBe(201);
    const key = await t.call('POST', '/keys', adminKey, { user_id: id });
    expect(key.status).toBe(201);
    keys.set(who, (key.body as { key: string }).key);
  }
  spareUserId = ((await t.call('POST', '/users', adminKey, { name: 'spare', email: 'spare@example.com' })).body as { id: string }).id;
  for (const visibility of visibilities) {
    const { status, file } = await t.publish(`pkg-${visibility}`, '1.0.0', adminKey);
    expect(status).toBe(201);
    files.set(visibility, file);
    expect((await t.call('PATCH', `/packages/pkg-${visibility}`, adminKey, { visibility, owners: [ownerId] })).status).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const canWrite = new Set<Who>(['ml-engineer', 'maintainer', 'admin', 'owner']);
const canAdminister = new Set<Who>(['admin', 'owner']);

function expectedPackageStatus(who: Who, kind: Kind, visibility: Visibility): number {
  if (who === 'bad-key') return 401;
  const visible = visibility === 'public' || (visibility === 'internal' && who !== 'anonymous') || (visibility === 'private' && (who === 'admin' || who === 'owner'));
  if (!visible) {
    // Exactly what a package that does not exist answers: a guess learns nothing (hidden-packages.test.ts compares bodies too).
    if (kind === 'read' || kind === 'administer') return 404;
    if (who === 'anonymous') return 401;
    return canWrite.has(who) ? 404 : 403;
  }
  if (kind === 'read') return 200;
  if (who === 'anonymous') return 401;
  return (kind === 'write' ? canWrite : canAdminister).has(who) ? 200 : 403;
}

const packageEndpoints: Array<{ label: string; kind: Kind; run: (name: string, visibility: Visibility, key: string | null) => Promise<number> }> = [
  { label: 'GET /packages/{name}', kind: 'read', run: async (name, _v, key) => (await t.call('GET', `/packages/${name}`, key)).status },
  { label: 'GET /packages/{name}/{version}', kind: 'read', run: async (name, _v, key) => (await t.call('GET', `/packages/${name}/1.0.0`, key)).status },
  { label: 'GET /packages/{name}/{version}/download', kind: 'read', run: async (name, _v, key) => (await t.call('GET', `/packages/${name}/1.0.0/download`, key)).status },
  { label: 'GET /resolve/{name}', kind: 'read', run: async (name, _v, key) => (await t.call('GET', `/resolve/${name}?range=^1`, key)).status },
  { label: 'PUT /packages/{name}/{version} (same bytes)', kind: 'write', run: (name, visibility, key) => t.put(name, '1.0.0', files.get(visibility) ?? '', key) },
  { label: 'POST /packages/{name}/{version}/yank', kind: 'write', run: async (name, _v, key) => (await t.call('POST', `/packages/${name}/1.0.0/yank`, key)).status },
  { label: 'POST /packages/{name}/{version}/unyank', kind: 'write', run: async (name, _v, key) => (await t.call('POST', `/packages/${name}/1.0.0/unyank`, key)).status },
  { label: 'PATCH /packages/{name}', kind: 'administer', run: async (name, visibility, key) => (await t.call('PATCH', `/packages/${name}`, key, { visibility })).status },
];

describe('access matrix: package endpoints', () => {
  it('answers every package endpoint × principal × visibility with the exact status', async () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const visibility of visibilities) {
      for (const who of everyone) {
        for (const endpoint of packageEndpoints) {
          const status = await endpoint.run(`pkg-${visibility}`, visibility, keys.get(who) ?? null);
          const expected = expectedPackageStatus(who, endpoint.kind, visibility);
          checked += 1;
          if (status !== expected) mismatches.push(`${endpoint.label} as ${who} on ${visibility}: ${status}, expected ${expected}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(visibilities.length * everyone.length * packageEndpoints.length);
  }, 120_000);

  it('search lists only what each principal may see', async () => {
    const seen = async (who: Who): Promise<string[]> => {
      const result = await t.call('GET', '/search?q=pkg', keys.get(who) ?? null);
      expect(result.status).toBe(200);
      return (result.body as { packages: Array<{ name: string }> }).packages.map((entry) => entry.name).sort();
    };
    expect(await seen('anonymous')).toEqual(['pkg-public']);
    for (const who of roles) expect(await seen(who)).toEqual(['pkg-internal', 'pkg-public']);
    expect(await seen('owner')).toEqual(['pkg-internal', 'pkg-private', 'pkg-public']);
    expect(await seen('admin')).toEqual(['pkg-internal', 'pkg-private', 'pkg-public']);
    expect((await t.call('GET', '/search', keys.get('bad-key'))).status).toBe(401);
    // Browsing (no query) is filtered the same way.
    const browse = await t.call('GET', '/search', null);
    expect((browse.body as { total: number }).total).toBe(1);
  });
});

describe('access matrix: security endpoints', () => {
  let counter = 0;
  const unique = (): string => `n${(counter += 1)}`;
  const securityEndpoints: Array<{ label: string; success: number; anyValidKey?: boolean; run: (key: string | null) => Promise<number> }> = [
    { label: 'POST /users', success: 201, run: async (key) => (await t.call('POST', '/users', key, { name: unique(), email: 'x@example.com' })).status },
    { label: 'GET /users', success: 200, run: async (key) => (await t.call('GET', '/users', key)).status },
    { label: 'PATCH /users/{id}', success: 200, run: async (key) => (await t.call('PATCH', `/users/${spareUserId}`, key, { active: true })).status },
    { label: 'POST /roles', success: 201, run: async (key) => (await t.call('POST', '/roles', key, { name: `r-${unique()}`, permissions: ['ViewMetadata'] })).status },
    { label: 'GET /roles', success: 200, run: async (key) => (await t.call('GET', '/roles', key)).status },
    { label: 'POST /users/{id}/grants', success: 201, run: async (key) => (await t.call('POST', `/users/${spareUserId}/grants`, key, { role: 'viewer', scope: `${unique()}/*` })).status },
    { label: 'POST /keys', success: 201, run: async (key) => (await t.call('POST', '/keys', key, { user_id: spareUserId })).status },
    {
      label: 'DELETE /keys/{id}',
      success: 204,
      run: async (key) => {
        const victim = t.core.access.createKey(t.core.access.localContext(), { userId: spareUserId });
        return (await t.call('DELETE', `/keys/${victim.id}`, key)).status;
      },
    },
    { label: 'GET /whoami', success: 200, anyValidKey: true, run: async (key) => (await t.call('GET', '/whoami', key)).status },
    { label: 'GET /audit', success: 200, run: async (key) => (await t.call('GET', '/audit', key)).status },
  ];

  it('answers every security endpoint × principal with the exact status', async () => {
    const mismatches: string[] = [];
    for (const who of everyone) {
      for (const endpoint of securityEndpoints) {
        const status = await endpoint.run(keys.get(who) ?? null);
        const expected = who === 'anonymous' || who === 'bad-key' ? 401 : who === 'admin' || endpoint.anyValidKey ? endpoint.success : 403;
        if (status !== expected) mismatches.push(`${endpoint.label} as ${who}: ${status}, expected ${expected}`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  it('whoami names the user and the permissions its grants give', async () => {
    const whoami = await t.call('GET', '/whoami', keys.get('data-scientist'));
    expect(whoami.body).toMatchObject({ user: { name: 'data-scientist', active: true }, permissions: ['ViewMetadata', 'DownloadPackage', 'ViewStats'] });
  });
});
