import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { migrations } from '../../../../electron/services/database/migrations';
import { openDatabase } from '../../../../electron/services/database/open-database';
import { AccessRepository } from '../../../../electron/services/access/access-repository';
import { AccessControl } from '../../../../electron/services/access/access-control';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

describe('migration 8 (access control)', () => {
  it('upgrades a registry written at migration 5: old admin keys keep working as admin users, packages become internal', () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const file = path.join(temp.dir, 'old.sqlite');
    const old = openDatabase(file, migrations.slice(0, 5));
    old.prepare(`INSERT INTO packages (id, name, created_at) VALUES (1, 'legacy', '2026-01-01T00:00:00Z')`).run();
    // The key "old-admin-key-0123456789" as the registry of migration 3 stored it: a SHA-256 hash and a role.
    old.prepare(`INSERT INTO api_keys (id, label, key_hash, role, created_at) VALUES ('k1', 'ci', ?, 'admin', '2026-01-01T00:00:00Z')`).run(
      createHash('sha256').update('old-admin-key-0123456789').digest('hex'),
    );
    old.close();

    const db = openDatabase(file, migrations);
    const repository = new AccessRepository(db);
    const key = repository.key('k1');
    expect(key?.user_id).toBe('key-k1');
    expect(repository.user('key-k1')).toMatchObject({ name: 'ci (k1)', active: true });
    expect(repository.grantsOf('key-k1')).toMatchObject([{ role: 'admin', scope: '*' }]);
    expect(repository.packageInfo('legacy')).toMatchObject({ visibility: 'internal' });
    const access = new AccessControl({ repository });
    expect(access.defaultVisibility()).toBe('internal');
    const principal = access.authenticate('Bearer old-admin-key-0123456789', '127.0.0.1');
    expect(access.check(principal, 'ManageSecurity')).toEqual({ granted: true });
    db.close();
  });
});
