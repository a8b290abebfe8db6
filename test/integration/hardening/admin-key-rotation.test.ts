import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../support/temp-dir';
import { finish, startServeHost } from './serve-test-host';

const cleanups: Array<() => unknown> = [];
afterAll(() => finish(cleanups));

const oldKey = 'rotation-old-admin-key-0123456789';
const newKey = 'rotation-new-admin-key-9876543210';

describe('rotating TORSH_DEPOT_ADMIN_KEY', () => {
  it('revokes (and audits) the key an earlier value made; other keys keep working', async () => {
    const data = makeTempDir();
    cleanups.push(data.cleanup);
    const first = await startServeHost(data.dir, { adminKey: oldKey });
    expect((await first.call('GET', '/whoami', oldKey)).status).toBe(200);
    const bystander = await first.user('bystander', ['viewer']);
    await first.stop();

    const second = await startServeHost(data.dir, { adminKey: newKey });
    const refused = await second.call('GET', '/whoami', oldKey);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'key-revoked' } });
    expect((await second.call('GET', '/whoami', newKey)).body).toMatchObject({ user: { name: 'admin' } });
    expect((await second.call('GET', '/whoami', bystander.key)).status).toBe(200);
    const audit = await second.call('GET', '/audit?action=key.revoke', newKey);
    expect((audit.body as { events: unknown[] }).events).toEqual([
      expect.objectContaining({ action: 'key.revoke', source: 'startup', actor: null, details: { user_id: 'admin', reason: 'admin-key-rotated' } }),
    ]);
    const keys = (await second.call('GET', '/keys?user_id=admin', newKey)).body as { keys: Array<{ label: string; revoked_at: string | null }> };
    expect(keys.keys.map((key) => key.revoked_at === null)).toEqual(expect.arrayContaining([true, false]));
    expect(keys.keys).toHaveLength(2);
    await second.stop();

    // The same value again changes nothing; going back to the old value makes it the (only) admin key again.
    const third = await startServeHost(data.dir, { adminKey: oldKey });
    expect((await third.call('GET', '/whoami', oldKey)).status).toBe(200);
    expect((await third.call('GET', '/whoami', newKey)).status).toBe(401);
    await third.stop();
  }, 90_000);
});
