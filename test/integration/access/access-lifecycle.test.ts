import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { sessionCookieName } from '../../../electron/host/session-token';
import { adminKey, startAccessTestHost, type AccessTestHost } from './access-test-host';

let t: AccessTestHost;

beforeAll(async () => {
  t = await startAccessTestHost();
}, 60_000);

afterAll(async () => {
  await t?.close();
});

async function newUser(name: string, grants: Array<{ role: string; scope: string }> = []): Promise<string> {
  const created = await t.call('POST', '/users', adminKey, { name, email: `${name}@example.com` });
  expect(created.status).toBe(201);
  const id = (created.body as { id: string }).id;
  for (const grant of grants) expect((await t.call('POST', `/users/${id}/grants`, adminKey, grant)).status).toBe(201);
  return id;
}

async function newKey(userId: string, extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const created = await t.call('POST', '/keys', adminKey, { user_id: userId, ...extra });
  expect(created.status).toBe(201);
  return created.body as { id: string; key: string };
}

describe('API keys', () => {
  it('are shown once, stored hashed, record last use, and stop working on the next request after revocation', async () => {
    const userId = await newUser('kim', [{ role: 'ml-engineer', scope: '*' }]);
    const { id, key } = await newKey(userId, { label: 'ci' });
    expect(key).toMatch(/^tdk_[\w-]{40,}$/);
    const stored = t.core.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as Record<string, unknown>;
    expect(JSON.stringify(stored)).not.toContain(key);
    const listed = await t.call('GET', `/keys?user_id=${userId}`, adminKey);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect((listed.body as { keys: Array<{ last_used_at: string | null; prefix: string }> }).keys[0]).toMatchObject({ last_used_at: null, prefix: key.slice(0, 12) });

    expect((await t.call('GET', '/whoami', key)).status).toBe(200);
    const used = (await t.call('GET', `/keys?user_id=${userId}`, adminKey)).body as { keys: Array<{ last_used_at: string | null }> };
    expect(used.keys[0]?.last_used_at).not.toBeNull();

    expect((await t.call('DELETE', `/keys/${id}`, adminKey)).status).toBe(204);
    const after = await t.call('GET', '/whoami', key);
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: { code: 'UNAUTHORIZED', message: expect.stringContaining('revoked') } });
    expect((await t.call('DELETE', '/keys/no-such-key', adminKey)).status).toBe(404);
  });

  it('expire: a key past its expiry is a 401; an expiry in the past is refused', async () => {
    const userId = await newUser('eve', [{ role: 'viewer', scope: '*' }]);
    expect((await t.call('POST', '/keys', adminKey, { user_id: userId, expires_at: '2001-01-01T00:00:00Z' })).status).toBe(400);
    const { key } = await newKey(userId, { expires_at: new Date(Date.now() + 1_500).toISOString() });
    expect((await t.call('GET', '/whoami', key)).status).toBe(200);
    await expect.poll(async () => (await t.call('GET', '/whoami', key)).status, { timeout: 20_000, interval: 200 }).toBe(401);
    expect(((await t.call('GET', '/whoami', key)).body as { error: { message: string } }).error.message).toContain('expired');
  });

  it('narrowed keys hold at most their listed permissions, never more than their user', async () => {
    const { status } = await t.publish('narrow-target', '1.0.0', adminKey);
    expect(status).toBe(201);
    const adminUser = ((await t.call('GET', '/whoami', adminKey)).body as { user: { id: string } }).user.id;
    const readOnly = await newKey(adminUser, { permissions: ['ViewMetadata', 'DownloadPackage'] });
    expect((await t.call('GET', '/packages/narrow-target/1.0.0', readOnly.key)).status).toBe(200);
    expect((await t.call('POST', '/packages/narrow-target/1.0.0/yank', readOnly.key)).status).toBe(403);
    expect((await t.call('GET', '/users', readOnly.key)).status).toBe(403);
    expect((await t.call('GET', '/whoami', readOnly.key)).body).toMatchObject({ permissions: ['ViewMetadata', 'DownloadPackage'], key: { permissions: ['ViewMetadata', 'DownloadPackage'] } });

    const viewerId = await newUser('vic', [{ role: 'viewer', scope: '*' }]);
    const wishful = await newKey(viewerId, { permissions: ['ManageSecurity', 'ViewMetadata'] });
    expect((await t.call('GET', '/users', wishful.key)).status).toBe(403);
    expect((await t.call('GET', '/whoami', wishful.key)).body).toMatchObject({ permissions: ['ViewMetadata'] });
  });

  it('a deactivated user is refused (401) until activated again', async () => {
    const userId = await newUser('dee', [{ role: 'viewer', scope: '*' }]);
    const { key } = await newKey(userId);
    expect((await t.call('PATCH', `/users/${userId}`, adminKey, { active: false })).status).toBe(200);
    expect((await t.call('GET', '/whoami', key)).status).toBe(401);
    expect((await t.call('PATCH', `/users/${userId}`, adminKey, { active: true })).status).toBe(200);
    expect((await t.call('GET', '/whoami', key)).status).toBe(200);
  });
});

describe('scopes and ownership', () => {
  it('a grant on vision/* reaches vision/… and not nlp/x; private packages show only to owners and explicit grants', async () => {
    const userId = await newUser('vera', [{ role: 'ml-engineer', scope: 'vision/*' }]);
    const { key } = await newKey(userId);
    expect((await t.publish('vision/detector', '1.0.0', key)).status).toBe(201);
    expect((await t.publish('nlp/x', '1.0.0', key)).status).toBe(403);
    expect((await t.publish('nlp/x', '1.0.0', adminKey)).status).toBe(201);
    expect((await t.call('POST', '/packages/nlp/x/1.0.0/yank', key)).status).toBe(403);
    expect((await t.call('GET', '/packages/nlp/x/1.0.0', key)).status).toBe(200); // internal: any user reads

    // The publisher became the owner; new packages took the default visibility (internal).
    const access = await t.call('PATCH', '/packages/vision/detector', key, { visibility: 'private' });
    expect(access.status).toBe(200);
    expect(access.body).toEqual({ name: 'vision/detector', visibility: 'private', owners: [userId] });

    expect((await t.call('PATCH', '/packages/nlp/x', adminKey, { visibility: 'private' })).status).toBe(200);
    expect((await t.call('GET', '/packages/nlp/x', key)).status).toBe(404);
    expect((await t.call('GET', '/packages/vision/detector', key)).status).toBe(200);

    const outsiderId = await newUser('otto', [{ role: 'maintainer', scope: '*' }]);
    const outsider = await newKey(outsiderId);
    expect((await t.call('GET', '/packages/vision/detector', outsider.key)).status).toBe(404);
    expect((await t.call('POST', `/users/${outsiderId}/grants`, adminKey, { role: 'viewer', scope: 'vision/det*' })).status).toBe(201);
    expect((await t.call('GET', '/packages/vision/detector', outsider.key)).status).toBe(200);
    expect((await t.call('GET', '/packages/nlp/x', outsider.key)).status).toBe(404);
  });

  it('custom roles: create, grant, cannot delete while granted, delete after the grant is revoked', async () => {
    expect((await t.call('POST', '/roles', adminKey, { name: 'yanker', permissions: ['YankPackage', 'ViewMetadata'] })).status).toBe(201);
    expect((await t.call('POST', '/roles', adminKey, { name: 'viewer', permissions: [] })).status).toBe(409);
    expect((await t.call('PATCH', '/roles/viewer', adminKey, { permissions: ['ManageSecurity'] })).status).toBe(400);
    const userId = await newUser('yara');
    const grant = await t.call('POST', `/users/${userId}/grants`, adminKey, { role: 'yanker', scope: 'yank-me' });
    expect(grant.status).toBe(201);
    const { key } = await newKey(userId);
    expect((await t.publish('yank-me', '1.0.0', adminKey)).status).toBe(201);
    expect((await t.call('POST', '/packages/yank-me/1.0.0/yank', key)).status).toBe(200);
    const roles = (await t.call('GET', '/roles', adminKey)).body as { roles: Array<{ name: string; builtin: boolean; grants: Array<{ user_id: string; scope: string }> }> };
    expect(roles.roles.find((role) => role.name === 'yanker')).toMatchObject({ builtin: false, grants: [{ user_id: userId, scope: 'yank-me' }] });
    expect((await t.call('DELETE', '/roles/yanker', adminKey)).status).toBe(409);
    expect((await t.call('DELETE', `/users/${userId}/grants/${(grant.body as { id: string }).id}`, adminKey)).status).toBe(204);
    expect((await t.call('DELETE', '/roles/yanker', adminKey)).status).toBe(204);
    expect((await t.call('POST', '/packages/yank-me/1.0.0/unyank', key)).status).toBe(403);
  });
});

describe('the app\'s own UI (session cookie)', () => {
  it('reads (e.g. the download link) as the local admin, but never writes without a key', async () => {
    expect((await t.publish('session-read', '1.0.0', adminKey)).status).toBe(201);
    expect((await t.call('PATCH', '/packages/session-read', adminKey, { visibility: 'private' })).status).toBe(200);
    const cookie = { Cookie: `${sessionCookieName(t.host.port)}=${encodeURIComponent(t.host.token)}` };
    expect((await fetch(`${t.base}/packages/session-read/1.0.0/download`, { headers: cookie })).status).toBe(200);
    expect((await fetch(`${t.base}/packages/session-read/1.0.0/download`, { headers: { Cookie: `${sessionCookieName(t.host.port)}=not-the-token` } })).status).toBe(404);
    // A write with only the cookie is anonymous: 401, exactly as for a package that does not exist.
    expect((await fetch(`${t.base}/packages/session-read/1.0.0/yank`, { method: 'POST', headers: cookie })).status).toBe(401);
    expect((await fetch(`${t.base}/packages/no-such-package/1.0.0/yank`, { method: 'POST', headers: cookie })).status).toBe(401);
  });
});

describe('audit log', () => {
  const count = async (): Promise<number> => ((await t.call('GET', '/audit?limit=10000', adminKey)).body as { events: unknown[] }).events.length;

  it('each mutating action writes exactly one event, with actor, target, time and source', async () => {
    const steps: Array<[string, () => Promise<number>]> = [];
    let userId = '';
    let grantId = '';
    let keyId = '';
    steps.push(['user.create', async () => {
      const created = await t.call('POST', '/users', adminKey, { name: 'audited', email: 'a@example.com' });
      userId = (created.body as { id: string }).id;
      return created.status;
    }]);
    steps.push(['user.update', async () => (await t.call('PATCH', `/users/${userId}`, adminKey, { email: 'b@example.com' })).status]);
    steps.push(['role.create', async () => (await t.call('POST', '/roles', adminKey, { name: 'auditor', permissions: ['ViewStats'] })).status]);
    steps.push(['role.update', async () => (await t.call('PATCH', '/roles/auditor', adminKey, { permissions: ['ViewStats', 'ViewMetadata'] })).status]);
    steps.push(['grant.create', async () => {
      const created = await t.call('POST', `/users/${userId}/grants`, adminKey, { role: 'ml-engineer', scope: 'audit/*' });
      grantId = (created.body as { id: string }).id;
      return created.status;
    }]);
    steps.push(['grant.delete', async () => (await t.call('DELETE', `/users/${userId}/grants/${grantId}`, adminKey)).status]);
    steps.push(['role.delete', async () => (await t.call('DELETE', '/roles/auditor', adminKey)).status]);
    steps.push(['key.create', async () => {
      const created = await t.call('POST', '/keys', adminKey, { user_id: userId });
      keyId = (created.body as { id: string }).id;
      return created.status;
    }]);
    steps.push(['key.revoke', async () => (await t.call('DELETE', `/keys/${keyId}`, adminKey)).status]);
    steps.push(['package.publish', async () => (await t.publish('audit/model', '1.0.0', adminKey)).status]);
    steps.push(['package.yank', async () => (await t.call('POST', '/packages/audit/model/1.0.0/yank', adminKey)).status]);
    steps.push(['package.unyank', async () => (await t.call('POST', '/packages/audit/model/1.0.0/unyank', adminKey)).status]);
    steps.push(['package.access', async () => (await t.call('PATCH', '/packages/audit/model', adminKey, { visibility: 'public', owners: [userId] })).status]);

    for (const [action, step] of steps) {
      const before = await count();
      expect(await step()).toBeLessThan(300);
      expect(await count(), action).toBe(before + 1);
      const [latest] = ((await t.call('GET', '/audit?limit=1', adminKey)).body as { events: Array<Record<string, unknown>> }).events;
      expect(latest, action).toMatchObject({ action, actor: 'admin', actor_id: 'admin', source: '127.0.0.1', at: expect.any(String), target: expect.any(String) });
    }
    // Refused and no-op requests are not events.
    const before = await count();
    expect((await t.call('POST', '/users', null, { name: 'nobody', email: 'n@example.com' })).status).toBe(401);
    expect((await t.call('DELETE', `/keys/${keyId}`, adminKey)).status).toBe(204);
    expect(await count()).toBe(before);
  });

  it('filters by action, actor and time, exports JSON lines newest first, and cannot be edited', async () => {
    const publishes = (await t.call('GET', '/audit?action=package.publish', adminKey)).body as { events: Array<{ action: string; id: number }> };
    expect(publishes.events.length).toBeGreaterThan(0);
    expect(publishes.events.every((event) => event.action === 'package.publish')).toBe(true);
    const packageEvents = (await t.call('GET', '/audit?action=package.', adminKey)).body as { events: Array<{ action: string }> };
    expect(new Set(packageEvents.events.map((event) => event.action))).toEqual(new Set(['package.publish', 'package.yank', 'package.unyank', 'package.access']));
    expect(((await t.call('GET', '/audit?actor=nobody-at-all', adminKey)).body as { events: unknown[] }).events).toEqual([]);
    expect(((await t.call('GET', `/audit?since=${new Date(Date.now() + 60_000).toISOString()}`, adminKey)).body as { events: unknown[] }).events).toEqual([]);
    expect((await t.call('GET', '/audit?since=yesterday', adminKey)).status).toBe(400);

    const lines = await t.call('GET', '/audit?format=jsonl&action=package.publish', adminKey);
    expect(lines.headers.get('content-type')).toContain('application/x-ndjson');
    const parsed = String(lines.body).trimEnd().split('\n').map((line) => JSON.parse(line) as { id: number });
    expect(parsed.map((event) => event.id)).toEqual(publishes.events.map((event) => event.id));

    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) expect((await t.call(method, '/audit', adminKey, {})).status).toBe(405);
    expect((await t.call('DELETE', `/audit/${publishes.events[0]?.id}`, adminKey)).status).toBe(404);
    expect(() => t.core.db.prepare('UPDATE audit_events SET actor = ?').run('forged')).toThrow(/append-only/);
    expect(() => t.core.db.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
  });
});

/** A request from a chosen loopback source address (the host listens on 127.0.0.1; all of 127/8 is local). */
function statusFrom(localAddress: string, url: string, key: string | null): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { localAddress, headers: key ? { Authorization: `Bearer ${key}` } : {} }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('failed-auth rate limit', () => {
  let limited: AccessTestHost;
  beforeAll(async () => {
    limited = await startAccessTestHost({ maxFailures: 5 });
  }, 60_000);
  afterAll(async () => {
    await limited?.close();
  });

  it('refuses an address after repeated failures with 429 + Retry-After, without affecting other addresses', async () => {
    const whoami = `${limited.base}/whoami`;
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await statusFrom('127.0.0.1', whoami, 'tdk_guess-000000000000000000')).status).toBe(401);
    const refused = await statusFrom('127.0.0.1', whoami, 'tdk_guess-000000000000000000');
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    // The right key still works: a flood of bad keys from a shared address never locks out valid keys.
    expect((await statusFrom('127.0.0.1', whoami, adminKey)).status).toBe(200);
    expect((await statusFrom('127.0.0.1', whoami, 'tdk_guess-000000000000000000')).status).toBe(429);
    // Another address is untouched: wrong keys are 401, the right key works.
    expect((await statusFrom('127.0.0.2', whoami, 'tdk_guess-000000000000000000')).status).toBe(401);
    expect((await statusFrom('127.0.0.2', whoami, adminKey)).status).toBe(200);
    // Anonymous requests are not authentication attempts.
    expect((await statusFrom('127.0.0.1', `${limited.base}/health`, null)).status).toBe(200);
    const bursts = (await statusFromJson(`${limited.base}/audit?action=auth.failed-burst`)) as { events: Array<{ source: string }> };
    expect(bursts.events).toHaveLength(1);
    expect(bursts.events[0]?.source).toBe('127.0.0.1');
  });

  function statusFromJson(url: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const request = http.request(url, { localAddress: '127.0.0.3', headers: { Authorization: `Bearer ${adminKey}` } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve(JSON.parse(text)));
      });
      request.on('error', reject);
      request.end();
    });
  }
});
