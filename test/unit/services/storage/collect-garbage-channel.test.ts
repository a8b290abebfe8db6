import { createHash } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newTestCore } from '../../../support/test-core';
import { runContractJob } from '../../../support/contract-jobs';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('storage.collectGarbage (the Storage screen card)', () => {
  it('runs the collector as a job: a dry run reports, a real run removes, and bad input is refused', async () => {
    const { core, dataDir } = newTestCore(cleanups);
    const bytes = Buffer.from('an orphan blob');
    const digest = createHash('sha256').update(bytes).digest('hex');
    mkdirSync(path.join(dataDir, 'blobs', 'sha256'), { recursive: true });
    const file = path.join(dataDir, 'blobs', 'sha256', digest);
    writeFileSync(file, bytes);
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(file, old, old);
    const dry = await runContractJob(core, 'storage.collectGarbage', { dry_run: true });
    expect(dry).toMatchObject({ kind: 'blob-gc', status: 'succeeded', result: { dry_run: true, grace_seconds: 3600, unreferenced: 1, removed: 0, digests: [`sha256:${digest}`] } });
    expect(await core.blobs.has(digest)).toBe(true);
    const real = await runContractJob(core, 'storage.collectGarbage', { dry_run: false, grace_seconds: 0 });
    expect(real).toMatchObject({ status: 'succeeded', result: { removed: 1 } });
    expect(await core.blobs.has(digest)).toBe(false);
    const refused = await core.router.dispatch('storage.collectGarbage', { grace_seconds: -5 }, { origin: 'test' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });
});
