import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Core } from '../../../../electron/services/composition-root';
import { newTestCore } from '../../../support/test-core';
import { caught, thrown } from '../../../support/depot-errors';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setUp(): { core: Core; work: string } {
  return newTestCore(cleanups);
}

function writeTree(root: string, files: Record<string, string | number>): void {
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(root, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, typeof content === 'number' ? randomBytes(content) : content);
  }
}



describe('dropping a folder: inspect, pack into the staging area, publish', () => {
  it('a local folder (desktop drop): shows what packing finds, packs as a job, then publishes like a dropped package', async () => {
    const { core, work } = setUp();
    const folder = path.join(work, 'Quokka Vision');
    writeTree(folder, { 'models/weights.pt': 300_000, 'config/model.yaml': 'layers: 4\n', 'README.md': '# quokka\n', 'extra/tokenizer.json': '{}' });

    const inspection = await core.stagedFolders.inspect({ kind: 'path', path: folder });
    expect(inspection).toMatchObject({ folderName: 'Quokka Vision', fileCount: 4, totalBytes: 300_000 + 10 + 9 + 2, truncated: false, suggestedName: 'quokka-vision', suggestedVersion: null });
    expect(inspection.files.map((file) => [file.entryPath, file.type])).toEqual([
      ['config/model.yaml', 'Config'],
      ['docs/README.md', 'Documentation'],
      ['models/weights.pt', 'Model'],
      ['resources/extra/tokenizer.json', 'Metadata'],
    ]);

    const job = core.stagedFolders.pack({ kind: 'path', path: folder }, { name: 'vision/quokka', version: '1.2.0', description: 'A quokka detector' });
    const staged = await job.done;
    expect(staged.fileName).toBe('vision__quokka-1.2.0.torshpkg');
    const view = await core.staging.inspect({ kind: 'staged', id: staged.id });
    expect(view).toMatchObject({ name: 'vision/quokka', version: '1.2.0', description: 'A quokka detector', alreadyPublished: null });
    expect(view.resources.map((resource) => resource.path).sort()).toEqual(['config/model.yaml', 'docs/README.md', 'models/weights.pt', 'resources/extra/tokenizer.json']);

    const published = await core.staging.publish({ kind: 'staged', id: staged.id }, { tags: ['vision'] }, 'local-user').done;
    expect(published).toMatchObject({ name: 'vision/quokka', version: '1.2.0', digest: staged.digest });
    expect(core.registry.getVersion('vision/quokka', '1.2.0').tags).toEqual(['vision']);
    // The folder itself is the user's: untouched.
    expect(readdirSync(folder).sort()).toEqual(['README.md', 'config', 'extra', 'models']);
  });

  it('suggests the name and version of a folder extracted from a package', async () => {
    const { core, work } = setUp();
    const folder = path.join(work, 'extracted');
    writeTree(folder, { 'models/w.pt': 10, 'MANIFEST.json': JSON.stringify({ format_version: '1.0.0', name: 'dingo', version: '3.1.4', created_at: '2026-01-01T00:00:00Z', resources: [] }) });
    const inspection = await core.stagedFolders.inspect({ kind: 'path', path: folder });
    expect(inspection).toMatchObject({ suggestedName: 'dingo', suggestedVersion: '3.1.4', fileCount: 1 });
  });

  it('a browser upload: files arrive one by one at their relative paths, then pack and the upload is cleared', async () => {
    const { core } = setUp();
    const { id } = await core.stagedFolders.create('My Model');
    await core.stagedFolders.receiveFile(id, 'models/weights.pt', Readable.from([randomBytes(50_000)]));
    await core.stagedFolders.receiveFile(id, 'config/model.yaml', Readable.from([Buffer.from('a: 1\n')]));
    const inspection = await core.stagedFolders.inspect({ kind: 'uploaded', id });
    expect(inspection).toMatchObject({ folderName: 'My Model', fileCount: 2, totalBytes: 50_005, suggestedName: 'my-model' });

    const staged = await core.stagedFolders.pack({ kind: 'uploaded', id }, { name: 'my-model', version: '0.1.0' }).done;
    expect((await core.staging.inspect({ kind: 'staged', id: staged.id })).name).toBe('my-model');
    expect(existsSync(path.join(core.tmpDir, 'staged-folders', id))).toBe(false);
    expect((await caught(core.stagedFolders.inspect({ kind: 'uploaded', id }))).code).toBe('NOT_FOUND');
  });

  it('refuses bad paths, duplicates and oversized folders, keeping nothing of the refused file', async () => {
    const { core } = setUp();
    await core.settings.update({ registry: { ...core.settings.get().registry, maxPackageBytes: 100_000 } });
    const { id } = await core.stagedFolders.create('bad');
    const folderDir = path.join(core.tmpDir, 'staged-folders', id);
    for (const bad of ['../escape.txt', '/etc/passwd', 'a\\b.txt', 'a//b.txt', './a.txt', 'dir/', '']) {
      const error = await caught(core.stagedFolders.receiveFile(id, bad, Readable.from([Buffer.from('x')])));
      expect(error.code, bad).toBe('VALIDATION_FAILED');
    }
    expect(readdirSync(folderDir)).toEqual([]);
    expect(existsSync(path.join(core.tmpDir, 'escape.txt'))).toBe(false);

    await core.stagedFolders.receiveFile(id, 'models/a.pt', Readable.from([randomBytes(60_000)]));
    expect((await caught(core.stagedFolders.receiveFile(id, 'models/A.pt', Readable.from([Buffer.from('x')])))).code).toBe('CONFLICT');
    const tooBig = await caught(core.stagedFolders.receiveFile(id, 'models/b.pt', Readable.from([randomBytes(30_000), randomBytes(30_000)])));
    expect(tooBig.code).toBe('PAYLOAD_TOO_LARGE');
    expect(readdirSync(path.join(folderDir, 'models'))).toEqual(['a.pt']);
    // The refused file did not count: a smaller one still fits.
    await core.stagedFolders.receiveFile(id, 'models/c.pt', Readable.from([randomBytes(30_000)]));
    expect((await core.stagedFolders.inspect({ kind: 'uploaded', id })).fileCount).toBe(2);
  });

  it('refuses a bad name or version before any work, an empty or missing folder, and leaves no packed file on cancel', async () => {
    const { core, work } = setUp();
    const folder = path.join(work, 'pkg');
    writeTree(folder, { 'models/big.bin': 8 * 1024 * 1024 });
    expect(thrown(() => core.stagedFolders.pack({ kind: 'path', path: folder }, { name: 'Bad Name', version: '1.0.0' })).code).toBe('VALIDATION_FAILED');
    expect(thrown(() => core.stagedFolders.pack({ kind: 'path', path: folder }, { name: 'ok', version: '1.0' })).code).toBe('VALIDATION_FAILED');
    expect(core.jobs.list(10)).toEqual([]);

    const empty = path.join(work, 'empty');
    mkdirSync(empty);
    expect((await caught(core.stagedFolders.inspect({ kind: 'path', path: empty }))).code).toBe('VALIDATION_FAILED');
    expect((await caught(core.stagedFolders.inspect({ kind: 'path', path: path.join(work, 'missing') }))).code).toBe('NOT_FOUND');
    expect((await caught(core.stagedFolders.inspect({ kind: 'path', path: 'relative/dir' }))).code).toBe('VALIDATION_FAILED');

    const job = core.stagedFolders.pack({ kind: 'path', path: folder }, { name: 'ok', version: '1.0.0' });
    core.jobs.cancel(job.record.id);
    expect((await caught(job.done)).code).toBe('CANCELLED');
    const stagingDir = path.join(core.tmpDir, 'staging');
    expect(existsSync(stagingDir) ? readdirSync(stagingDir) : []).toEqual([]);
  });
});
