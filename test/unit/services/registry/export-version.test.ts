import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { createCore, type Core } from '../../../../electron/services/composition-root';
import { silentLogger } from '../../../../electron/services/logger';
import { receiveUpload } from '../../../../electron/services/registry/upload-receiver';
import { makeTempDir } from '../../../support/temp-dir';
import { makeTestPackage } from '../../../support/packages';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function coreWithPackage(): Promise<{ core: Core; file: string; out: string }> {
  const data = makeTempDir();
  const work = makeTempDir();
  cleanups.push(data.cleanup, work.cleanup);
  const core = createCore({ dataDir: data.dir, shell: 'headless', logger: silentLogger });
  cleanups.push(() => core.close());
  const file = await makeTestPackage(work.dir, { name: 'saved', version: '2.0.0', files: { 'models/w.pt': 2 * 1024 * 1024 } });
  const upload = await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 });
  await core.registry.publishUpload(upload, { publisher: 'test' });
  const out = path.join(work.dir, 'out');
  (await import('node:fs')).mkdirSync(out);
  return { core, file, out };
}

describe('packages.exportVersion', () => {
  it('saves the exact bytes into the folder as a job and counts a download', async () => {
    const { core, file, out } = await coreWithPackage();
    const started = await core.router.dispatch('packages.exportVersion', { name: 'saved', version: '2.0.0', directory: out }, { origin: 'test' });
    expect(started.ok).toBe(true);
    const id = started.ok ? (started.result as { id: string }).id : '';
    await expect.poll(() => core.jobs.get(id).status).toBe('succeeded');
    const saved = path.join(out, 'saved-2.0.0.torshpkg');
    const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
    expect(digest(readFileSync(saved))).toBe(digest(readFileSync(file)));
    expect(readdirSync(out)).toEqual(['saved-2.0.0.torshpkg']);
    expect(core.registry.getVersion('saved', '2.0.0').downloads).toBe(1);
  });

  it('refuses relative or missing folders and unknown versions, leaving nothing', async () => {
    const { core, out } = await coreWithPackage();
    const run = async (input: { name: string; version: string; directory: string }): Promise<string | undefined> => {
      const started = await core.router.dispatch('packages.exportVersion', input, { origin: 'test' });
      const id = started.ok ? (started.result as { id: string }).id : '';
      await expect.poll(() => core.jobs.get(id).status).toBe('failed');
      return core.jobs.get(id).error?.code;
    };
    expect(await run({ name: 'saved', version: '2.0.0', directory: 'relative/dir' })).toBe('VALIDATION_FAILED');
    expect(await run({ name: 'saved', version: '2.0.0', directory: path.join(out, 'missing') })).toBe('NOT_FOUND');
    expect(await run({ name: 'saved', version: '9.9.9', directory: out })).toBe('NOT_FOUND');
    expect(readdirSync(out)).toEqual([]);
  });
});
