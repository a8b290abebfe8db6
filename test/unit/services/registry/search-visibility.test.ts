import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { migrations } from '../../../../electron/services/database/migrations';
import { openDatabase } from '../../../../electron/services/database/open-database';
import { RegistryRepository, type PackageFilter } from '../../../../electron/services/registry/registry-repository';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

const visibilities = ['public', 'internal', 'private'] as const;

describe('search restricted by visibility', () => {
  it('gives the same pages whether hidden packages are excluded by id or checked per match, and hides exactly them', () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const db = openDatabase(path.join(temp.dir, 'db.sqlite'), migrations);
    const byExclusion = new RegistryRepository(db, { excludeLimit: 1_000 });
    const byJoin = new RegistryRepository(db, { excludeLimit: 0 });
    const visibilityOf = new Map<string, string>();
    for (let index = 0; index < 90; index += 1) {
      const name = `${index % 2 ? 'vision' : 'nlp'}/model-${index}`;
      byExclusion.insertVersion({
        name,
        version: '1.0.0',
        digest: `sha256:${index}`,
        size: 10,
        description: index % 3 ? 'a detector model' : 'a tokenizer model',
        author: null,
        license: null,
        tags: index % 5 ? ['alpha'] : ['beta'],
        manifestJson: '{}',
        resources: [],
        dependencies: {},
        publishedAt: '2026-01-01T00:00:00Z',
        publishedBy: null,
      });
      const visibility = visibilities[index % 3] ?? 'public';
      db.prepare('UPDATE packages SET visibility = ? WHERE name = ?').run(visibility, name);
      visibilityOf.set(name, visibility);
    }
    const privateIds = (db.prepare(`SELECT id FROM packages WHERE visibility = 'private' AND name LIKE 'vision/%'`).all() as Array<{ id: number }>).map((row) => row.id);
    const filters: Array<[PackageFilter, (name: string) => boolean]> = [
      [{ internal: false, privateIds: [] }, (name) => visibilityOf.get(name) === 'public'],
      [{ internal: true, privateIds: [] }, (name) => visibilityOf.get(name) !== 'private'],
      [{ internal: true, privateIds }, (name) => visibilityOf.get(name) !== 'private' || name.startsWith('vision/')],
    ];
    for (const [filter, visible] of filters) {
      const everything = byJoin.search('', 1, 100, filter);
      expect(everything.packages.map((entry) => entry.name).sort()).toEqual([...visibilityOf.keys()].filter(visible).sort());
      expect(everything.total).toBe(everything.packages.length);
      for (const query of ['', 'model', 'detector', 'vision', 'beta', 'tok', 'nothing-here']) {
        for (const page of [1, 2, 3]) {
          const joined = byJoin.search(query, page, 7, filter);
          expect(byExclusion.search(query, page, 7, filter)).toEqual(joined);
          expect(joined.packages.every((entry) => visible(entry.name))).toBe(true);
        }
      }
    }
    db.close();
  });
});
