import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { migrations } from '../../../../electron/services/database/migrations';
import { openDatabase } from '../../../../electron/services/database/open-database';
import { AccessControl } from '../../../../electron/services/access/access-control';
import { AccessRepository } from '../../../../electron/services/access/access-repository';
import { hashApiKey } from '../../../../electron/services/access/api-key-secret';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

describe('migration 11 (keys from TORSH_DEPOT_ADMIN_KEY, signature uploaders)', () => {
  it('marks the admin key an older release made from the variable, so the next rotation revokes it and only it', () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const file = path.join(temp.dir, 'old.sqlite');
    const old = openDatabase(file, migrations.slice(0, 10));
    old.prepare(`INSERT INTO users (id, name, email, active, created_at) VALUES ('admin', 'admin', '', 1, '2026-01-01T00:00:00Z'), ('u1', 'someone', '', 1, '2026-01-01T00:00:00Z')`).run();
    const insertKey = old.prepare(`INSERT INTO api_keys (id, label, key_hash, role, created_at, expires_at, user_id, permissions_json, prefix) VALUES (?, ?, ?, '', '2026-01-01T00:00:00Z', NULL, ?, NULL, 'tdk_')`);
    insertKey.run('env-key', 'TORSH_DEPOT_ADMIN_KEY', hashApiKey('an-old-admin-key-value-000'), 'admin');
    insertKey.run('made-by-hand', 'TORSH_DEPOT_ADMIN_KEY', hashApiKey('a-key-someone-else-holds-0'), 'u1');
    insertKey.run('ci-key', 'ci', hashApiKey('a-ci-key-of-the-admin-0000'), 'admin');
    old.close();

    const db = openDatabase(file, migrations);
    cleanups.push(() => db.close());
    const flags = db.prepare('SELECT id, from_admin_env FROM api_keys ORDER BY id').all();
    expect(flags).toEqual([
      { id: 'ci-key', from_admin_env: 0 },
      { id: 'env-key', from_admin_env: 1 },
      { id: 'made-by-hand', from_admin_env: 0 },
    ]);
    expect(db.prepare(`SELECT name FROM pragma_table_info('package_signatures') WHERE name = 'uploader_id'`).get()).toEqual({ name: 'uploader_id' });

    const access = new AccessControl({ repository: new AccessRepository(db) });
    access.ensureAdminKey('the-new-admin-key-value-11');
    const revoked = db.prepare('SELECT id FROM api_keys WHERE revoked_at IS NOT NULL ORDER BY id').all();
    expect(revoked).toEqual([{ id: 'env-key' }]);
    expect(() => access.authenticate('Bearer an-old-admin-key-value-000', 'test')).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED', reason: 'key-revoked' }));
    expect(access.authenticate('Bearer a-ci-key-of-the-admin-0000', 'test')).toMatchObject({ kind: 'user', user: { id: 'admin' } });
  });
});
