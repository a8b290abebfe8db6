import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { migrations } from '../../../../electron/services/database/migrations';
import { openDatabase } from '../../../../electron/services/database/open-database';
import { RegistryRepository } from '../../../../electron/services/registry/registry-repository';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

describe('migration 5 (package summaries, longer search prefixes)', () => {
  it('upgrades a registry written at migration 4: summaries, downloads and search carry over', () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const file = path.join(temp.dir, 'old.sqlite');
    const old = openDatabase(file, migrations.slice(0, 4));
    const now = '2026-01-01T00:00:00Z';
    old.prepare(`INSERT INTO packages (id, name, created_at) VALUES (1, 'vision/resnet-fifty', ?), (2, 'gone', ?)`).run(now, now);
    const insert = old.prepare(`INSERT INTO package_versions (package_id, package_name, version, major, minor, patch, prerelease, is_release, digest, size,
      description, tags_json, manifest_json, resources_json, published_at, downloads, yanked)
      VALUES (?, ?, ?, ?, ?, ?, '', 1, ?, ?, ?, ?, '{}', '[]', ?, ?, ?)`);
    insert.run(1, 'vision/resnet-fifty', '1.0.0', 1, 0, 0, 'sha256:a', 10, 'old classifier', '["vision"]', now, 5, 0);
    insert.run(1, 'vision/resnet-fifty', '1.2.0', 1, 2, 0, 'sha256:b', 20, 'better classifier', '["vision","imagenet"]', now, 7, 0);
    insert.run(1, 'vision/resnet-fifty', '2.0.0', 2, 0, 0, 'sha256:c', 30, 'yanked rewrite', '[]', now, 1, 1);
    insert.run(2, 'gone', '1.0.0', 1, 0, 0, 'sha256:d', 40, 'only yanked', '[]', now, 0, 1);
    old.close();

    const db = openDatabase(file, migrations);
    const repository = new RegistryRepository(db);
    const found = repository.search('imagen', 1, 20);
    expect(found.total).toBe(1);
    expect(found.packages[0]).toMatchObject({ name: 'vision/resnet-fifty', version: '1.2.0', description: 'better classifier', downloads: 13 });
    expect(repository.search('classifier', 1, 20).packages.map((entry) => entry.name)).toEqual(['vision/resnet-fifty']);
    // A package with only yanked versions is not listed; the browse list and its count agree.
    expect(repository.search('', 1, 20)).toMatchObject({ total: 1, packages: [{ name: 'vision/resnet-fifty' }] });
    expect(repository.search('gone', 1, 20).total).toBe(0);
    db.close();
  });
});
