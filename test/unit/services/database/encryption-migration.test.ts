import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { migrations } from '../../../../electron/services/database/migrations';
import { openDatabase } from '../../../../electron/services/database/open-database';
import { RegistryRepository } from '../../../../electron/services/registry/registry-repository';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

describe('migration 10 (encrypted versions)', () => {
  it('upgrades a registry written at migration 9: its versions are plain, new ones may be encrypted', () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const file = path.join(temp.dir, 'old.sqlite');
    const old = openDatabase(file, migrations.slice(0, 9));
    old.prepare(`INSERT INTO packages (id, name, created_at) VALUES (1, 'older', '2026-01-01T00:00:00Z')`).run();
    old.close();
    const db = openDatabase(file, migrations.slice(0, 10));
    cleanups.push(() => db.close());
    const repository = new RegistryRepository(db);
    const base = { description: 'd', author: null, license: null, tags: [], manifestJson: '{}', resources: [], dependencies: {}, publishedAt: '2026-01-02T00:00:00Z', publishedBy: null };
    repository.insertVersion({ ...base, name: 'older', version: '1.0.0', digest: `sha256:${'a'.repeat(64)}`, size: 1 });
    repository.insertVersion({ ...base, name: 'older', version: '2.0.0', digest: `sha256:${'b'.repeat(64)}`, size: 2, encryption: { algorithm: 'chacha20-poly1305', unlock: 'recipients' } });
    expect(repository.findVersion('older', '1.0.0')?.encryption).toBeNull();
    expect(repository.findVersion('older', '2.0.0')?.encryption).toEqual({ algorithm: 'chacha20-poly1305', unlock: 'recipients' });
    expect(repository.search('older', 1, 10).packages[0]).toMatchObject({ version: '2.0.0', encryption: { algorithm: 'chacha20-poly1305', unlock: 'recipients' } });
    expect(() => db.prepare(`UPDATE package_versions SET encryption_json = 'not json' WHERE version = '1.0.0'`).run()).toThrow(/CHECK/);
  });
});
