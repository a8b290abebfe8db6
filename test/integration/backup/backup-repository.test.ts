import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Readable } from 'node:stream';
import path from 'node:path';
import { BackupRepository, type InitOptions } from '../../../electron/services/backup/backup-repository';
import { runBackup, type BackupSourceFile } from '../../../electron/services/backup/backup-runner';
import { runPrune, runForget, type PruneStep } from '../../../electron/services/backup/prune-runner';
import { runRestore } from '../../../electron/services/backup/restore-runner';
import { runVerify } from '../../../electron/services/backup/verify-runner';
import { RepositoryLock, removeLocks } from '../../../electron/services/backup/repository-lock';
import { objectKeys, listKeys } from '../../../electron/services/backup/repository-format';
import { generateAgeIdentity } from '../../../electron/services/encryption/x25519-keys';
import { LocalStorage } from '../../../electron/services/storage/local-storage';
import { S3Storage } from '../../../electron/services/storage/s3-storage';
import type { StorageBackend } from '../../../electron/services/storage/storage-backend';
import { startS3rver, s3rverCredentials, type RunningServer } from '../../support/object-servers';
import { makeTempDir } from '../../support/temp-dir';
import { makeModelVersions } from '../../support/model-versions';

const KiB = 1024;
const MiB = 1024 * KiB;
const passphrase = 'correct horse battery staple';
const small: Omit<InitOptions, 'passphrase'> = { chunker: { minSize: 16 * KiB, avgSize: 64 * KiB, maxSize: 256 * KiB }, packSize: 1 * MiB, scrypt: { log2N: 10, r: 8, p: 1 } };

let scratch: { dir: string; cleanup: () => void };
let s3: RunningServer;
let versions: string[];

beforeAll(async () => {
  scratch = makeTempDir('torsh-backup-test-');
  s3 = await startS3rver(['backups']);
  // 40 tensors of 64 KiB; each later version rewrites 5% of them (2 tensors) and a config line.
  versions = await makeModelVersions(scratch.dir, { name: 'resnet', versions: 3, tensors: 40, tensorBytes: 64 * KiB, changeFraction: 0.05 });
}, 120_000);
afterAll(async () => {
  await s3?.stop();
  scratch?.cleanup();
});

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function sourceOf(file: string): BackupSourceFile[] {
  return [{ path: 'resnet.torshpkg', absolutePath: file }];
}

async function allObjects(storage: StorageBackend): Promise<string[]> {
  return (await listKeys(storage, '')).map(({ key }) => key).sort();
}

const stores: Array<[string, () => Promise<StorageBackend>]> = [
  ['a local folder', async () => {
    const storage = new LocalStorage(makeTempDir('torsh-backup-repo-').dir);
    await storage.init();
    return storage;
  }],
  ['s3rver', async () => new S3Storage({ bucket: 'backups', prefix: `repo-${Date.now()}`, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3rverCredentials, streamedChecksums: false, partSizeBytes: 5 * MiB, concurrency: 2 })],
];

describe.each(stores)('a backup repository on %s', (_name, makeStorage) => {
  it('backs up full, incremental and differential; each snapshot restores bit-identical; incremental stores only the change', async () => {
    const storage = await makeStorage();
    const repo = await BackupRepository.init(storage, { passphrase, ...small });
    const full = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[0] ?? ''), strategy: 'full' });
    const incremental = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[1] ?? ''), strategy: 'incremental' });
    const differential = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[2] ?? ''), strategy: 'differential' });
    expect(full.parent).toBeNull();
    expect(incremental.parent).toBe(full.id);
    expect(differential.parent).toBe(full.id);
    expect(differential.strategy).toBe('differential');
    const logical = full.stats.logicalBytes;
    expect(full.stats.addedBytes).toBe(logical);
    // 2 of 40 tensors changed (5%) plus headers and the central directory: well under 15% is new.
    expect(incremental.stats.addedBytes).toBeLessThan(logical * 0.15);
    expect(incremental.stats.addedBytes).toBeGreaterThanOrEqual(2 * 64 * KiB);

    const reopened = await BackupRepository.open(storage, { passphrase });
    expect((await reopened.listSnapshots()).map((snapshot) => snapshot.id)).toEqual([full.id, incremental.id, differential.id]);
    for (const [snapshot, original] of [[full, versions[0]], [incremental, versions[1]], [differential, versions[2]]] as const) {
      const target = makeTempDir('torsh-restore-');
      try {
        await runRestore(reopened, { snapshot, targetDir: target.dir });
        expect(sha256(path.join(target.dir, 'resnet.torshpkg'))).toBe(sha256(original ?? ''));
      } finally {
        target.cleanup();
      }
    }
    const report = await runVerify(reopened, { readDataFraction: 1 });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.packsRead).toBe(report.packs);
  }, 120_000);
});

describe('backup repository safety', () => {
  async function folderRepo(options: Partial<InitOptions> = {}): Promise<{ storage: LocalStorage; repo: BackupRepository; root: string }> {
    const root = makeTempDir('torsh-backup-repo-').dir;
    const storage = new LocalStorage(root);
    await storage.init();
    const repo = await BackupRepository.init(storage, { passphrase, ...small, ...options });
    return { storage, repo, root };
  }

  it('reuses the chunk lists of unchanged ZIP entries (same name, CRC, size and SHA-256) without chunking them again', async () => {
    const { repo } = await folderRepo();
    let chunked = 0;
    const cut = repo.chunker.cut.bind(repo.chunker);
    repo.chunker.cut = (data, start, end) => {
      const result = cut(data, start, end);
      chunked += result.length;
      return result;
    };
    const first = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[0] ?? ''), strategy: 'incremental' });
    const size = first.stats.logicalBytes;
    expect(chunked).toBe(size);
    expect(first.files[0]?.segments?.length).toBeGreaterThanOrEqual(40);
    chunked = 0;
    const second = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[1] ?? ''), strategy: 'incremental' });
    // Only the 2 rewritten tensors, the changed config and the headers and central directory are chunked.
    expect(chunked).toBeLessThan(size * 0.15);
    expect(chunked).toBeGreaterThanOrEqual(2 * 64 * KiB);
    expect(second.files[0]?.sha256).toBe(sha256(versions[1] ?? ''));
    // A full backup trusts nothing from before: everything is chunked again, and the chunks are the same.
    chunked = 0;
    const full = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[1] ?? ''), strategy: 'full' });
    expect(chunked).toBe(second.stats.logicalBytes);
    expect(full.files[0]?.chunks).toEqual(second.files[0]?.chunks);
    const target = makeTempDir('torsh-restore-');
    try {
      await runRestore(repo, { snapshot: second, targetDir: target.dir });
      expect(sha256(path.join(target.dir, 'resnet.torshpkg'))).toBe(sha256(versions[1] ?? ''));
    } finally {
      target.cleanup();
    }
  });

  it('refuses a wrong passphrase and a newer format with clear errors, writing nothing', async () => {
    const { storage, root } = await folderRepo();
    const before = await allObjects(storage);
    await expect(BackupRepository.open(storage, { passphrase: 'wrong' })).rejects.toMatchObject({ code: 'UNAUTHORIZED', reason: 'bad-passphrase' });
    const config = JSON.parse(readFileSync(path.join(root, 'config'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(root, 'config'), JSON.stringify({ ...config, version: 2 }));
    await expect(BackupRepository.open(storage, { passphrase })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', reason: 'repository-too-new' });
    expect(await allObjects(storage)).toEqual(before);
    await expect(BackupRepository.init(storage, { passphrase, ...small })).rejects.toMatchObject({ code: 'CONFLICT', reason: 'repository-exists' });
  });

  it('names the damaged pack and the affected snapshots when a byte flips; restore writes nothing', async () => {
    const { storage, repo, root } = await folderRepo({ compression: { codec: 'none', level: 0 } });
    const first = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[0] ?? ''), strategy: 'full' });
    const second = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[1] ?? ''), strategy: 'incremental' });
    const packs = await listKeys(storage, objectKeys.data);
    const victim = packs[0]?.key ?? '';
    const file = path.join(root, ...victim.split('/'));
    const bytes = readFileSync(file);
    const position = Math.floor(bytes.length / 2);
    bytes[position] = (bytes[position] ?? 0) ^ 0x01;
    writeFileSync(file, bytes);

    expect((await runVerify(repo)).ok).toBe(true); // structure alone cannot see it
    const report = await runVerify(repo, { readDataFraction: 1 });
    expect(report.ok).toBe(false);
    expect(report.damagedPacks).toEqual([objectKeys.packIdOf(victim)]);
    expect(report.problems[0]?.message).toContain(objectKeys.packIdOf(victim).slice(0, 12));
    expect(report.affectedSnapshots.length).toBeGreaterThan(0);
    expect(report.affectedSnapshots.every((id) => [first.id, second.id].includes(id))).toBe(true);

    const target = makeTempDir('torsh-restore-');
    try {
      const broken = report.affectedSnapshots[0] === first.id ? first : second;
      await expect(runRestore(repo, { snapshot: broken, targetDir: target.dir })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
      expect(readdirSync(target.dir)).toEqual([]);
    } finally {
      target.cleanup();
    }
  }, 60_000);

  it('reports a missing pack and a truncated index clearly', async () => {
    const { storage, repo, root } = await folderRepo();
    const snapshot = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[0] ?? ''), strategy: 'full' });
    const [pack] = await listKeys(storage, objectKeys.data);
    await storage.delete(pack?.key ?? '');
    const missing = await runVerify(repo);
    expect(missing.problems.map((problem) => problem.kind)).toContain('missing-pack');
    expect(missing.affectedSnapshots).toEqual([snapshot.id]);
    const [indexKey] = await listKeys(storage, objectKeys.index);
    const indexFile = path.join(root, ...(indexKey?.key ?? '').split('/'));
    writeFileSync(indexFile, readFileSync(indexFile).subarray(0, 40));
    const truncated = await runVerify(repo);
    expect(truncated.problems.find((problem) => problem.kind === 'index')?.message).toMatch(/Index index\/[0-9a-f]+ does not match its name/);
    await expect(repo.loadIndex()).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', reason: 'object-corrupt' });
  }, 60_000);

  it('write-only mode: backs up with only the public key; reading data needs the identity', async () => {
    const identity = generateAgeIdentity();
    const { storage, repo } = await folderRepo({ recipients: [identity.recipient] });
    expect(repo.writeOnly).toBe(true);
    const snapshot = await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(versions[0] ?? ''), strategy: 'full' });
    const target = makeTempDir('torsh-restore-');
    try {
      await expect(runRestore(repo, { snapshot, targetDir: target.dir })).rejects.toMatchObject({ code: 'UNAUTHORIZED', reason: 'identity-required' });
      expect(readdirSync(target.dir)).toEqual([]);
      const reader = await BackupRepository.open(storage, { passphrase, identities: [identity] });
      await runRestore(reader, { snapshot, targetDir: target.dir });
      expect(sha256(path.join(target.dir, 'resnet.torshpkg'))).toBe(sha256(versions[0] ?? ''));
      const stranger = await BackupRepository.open(storage, { passphrase, identities: [generateAgeIdentity()] });
      await expect(runRestore(stranger, { snapshot, targetDir: makeTempDir('torsh-restore-').dir })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    } finally {
      target.cleanup();
    }
  }, 60_000);

  it.each(['repacked', 'index-written', 'old-indexes-deleted', 'packs-deleted'] as PruneStep[])('prune stopped after "%s" leaves a repository that verifies and restores every live snapshot', async (step) => {
    const { repo } = await folderRepo();
    const snapshots = [];
    for (const [index, file] of versions.entries()) snapshots.push(await runBackup(repo, { source: { kind: 'files', label: 'resnet' }, files: sourceOf(file), strategy: 'incremental', time: new Date(Date.UTC(2026, 0, index + 1)) }));
    await runForget(repo, { policy: { last: 1 } });
    const crash = new Error(`simulated crash after ${step}`);
    await expect(runPrune(repo, { maxUnusedFraction: 0, afterStep: (reached) => { if (reached === step) throw crash; } })).rejects.toBe(crash);
    await removeLocks(repo.storage, true);
    const report = await runVerify(repo, { readDataFraction: 1 });
    expect(report.problems).toEqual([]);
    const live = await repo.listSnapshots();
    expect(live.map((snapshot) => snapshot.id)).toEqual([snapshots[2]?.id]);
    const target = makeTempDir('torsh-restore-');
    try {
      await runRestore(repo, { snapshot: live[0] ?? snapshots[2]!, targetDir: target.dir });
      expect(sha256(path.join(target.dir, 'resnet.torshpkg'))).toBe(sha256(versions[2] ?? ''));
    } finally {
      target.cleanup();
    }
    // A second, complete prune finishes the job: only what the live snapshot needs remains.
    const second = await runPrune(repo, { maxUnusedFraction: 0 });
    expect(second.dryRun).toBe(false);
    const after = await runVerify(repo, { readDataFraction: 1 });
    expect(after.ok).toBe(true);
    const needed = new Set(live[0]?.files.flatMap((file) => file.chunks));
    expect(after.chunks).toBe(needed.size);
  }, 120_000);

  it('an exclusive lock waits for nobody: it fails while a live shared lock is held; stale locks are ignored', async () => {
    const { repo } = await folderRepo();
    const shared = await RepositoryLock.acquire(repo.storage, 'shared', 'backup');
    await expect(runPrune(repo)).rejects.toMatchObject({ code: 'CONFLICT', reason: 'repository-locked' });
    const second = await RepositoryLock.acquire(repo.storage, 'shared', 'restore');
    await second.release();
    await shared.release();
    // A lock of a process that no longer exists on this host is stale.
    const staleRecord = { kind: 'exclusive', host: os.hostname(), pid: 2 ** 22 + 17, created: new Date().toISOString(), refreshed: new Date().toISOString(), operation: 'prune' };
    await repo.storage.put('locks/deadbeef', Readable.from([Buffer.from(JSON.stringify(staleRecord))]));
    await expect(runPrune(repo, { dryRun: true })).resolves.toMatchObject({ dryRun: true });
    expect(await removeLocks(repo.storage, false)).toBe(1);
  });
});
