import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Database } from 'better-sqlite3';
import { openDatabase } from '../../../electron/services/database/open-database';
import { migrations } from '../../../electron/services/database/migrations';
import { SettingsService } from '../../../electron/services/settings/settings-service';
import { JsonFileSettingsBackend } from '../../../electron/services/settings/settings-backend';
import { FileSecretStore } from '../../../electron/services/secrets/secret-store';
import { LocalStorage } from '../../../electron/services/storage/local-storage';
import { StorageManager } from '../../../electron/services/storage/storage-manager';
import { createConsoleLogger } from '../../../electron/services/logger';
import { startS3rver, startAzurite, s3rverCredentials, azuriteAccount, type RunningServer } from '../../support/object-servers';
import { makeTempDir } from '../../support/temp-dir';
import { text } from './storage-test-support';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { PassThrough } from 'node:stream';

let s3: RunningServer;
let azurite: RunningServer;
let work: { dir: string; cleanup: () => void };
let db: Database;
let manager: StorageManager;

beforeAll(async () => {
  work = makeTempDir('torsh-storage-manager-');
  [s3, azurite] = await Promise.all([startS3rver(['depot-copies']), startAzurite()]);
  await new BlobServiceClient(`${azurite.endpoint}/${azuriteAccount.name}`, new StorageSharedKeyCredential(azuriteAccount.name, azuriteAccount.key)).createContainer('copies');
  db = openDatabase(path.join(work.dir, 'db.sqlite'), migrations);
  const settings = new SettingsService(new JsonFileSettingsBackend(path.join(work.dir, 'settings.json')));
  const secrets = new FileSecretStore(path.join(work.dir, 'secrets.json'));
  manager = new StorageManager({
    db,
    settings,
    secrets,
    logger: createConsoleLogger('test', new PassThrough()),
    builtIn: new LocalStorage(path.join(work.dir, 'data')),
    retryPolicy: { retries: 2, baseMs: 10, maxMs: 50 },
  });
}, 90_000);
afterAll(async () => {
  db?.close();
  await Promise.all([s3?.stop(), azurite?.stop()]);
  work?.cleanup();
});

describe('StorageManager', () => {
  it('keeps backend settings free of secrets and builds the backends from the secret store', async () => {
    await manager.save(
      { kind: 's3', id: 'minio', label: 'Lab S3', bucket: 'depot-copies', endpoint: s3.endpoint, forcePathStyle: true, streamedChecksums: false },
      { accessKeyId: s3rverCredentials.accessKeyId, secretAccessKey: 'S3RVER' },
    );
    await manager.save(
      { kind: 'azure', id: 'blob', label: 'Azure', account: azuriteAccount.name, container: 'copies', endpoint: `${azurite.endpoint}/${azuriteAccount.name}` },
      { accountKey: azuriteAccount.key },
    );
    // An S3 endpoint where nothing listens: the backend that is down.
    await manager.save(
      { kind: 's3', id: 'down', label: 'Down', bucket: 'depot-copies', endpoint: 'http://127.0.0.1:1', forcePathStyle: true },
      { accessKeyId: 'x', secretAccessKey: 'y' },
    );
    const settingsText = readFileSync(path.join(work.dir, 'settings.json'), 'utf8');
    expect(settingsText).toContain('depot-copies');
    expect(settingsText).not.toContain(azuriteAccount.key);
    expect(settingsText).not.toContain('S3RVER');
    const views = manager.list();
    expect(views.map((view) => [view.id, view.kind, view.isBlobStore])).toEqual([
      ['local', 'local', true],
      ['minio', 's3', false],
      ['blob', 'azure', false],
      ['down', 's3', false],
    ]);
    expect(views.find((view) => view.id === 'blob')?.secretsSet).toEqual(['accountKey']);
    expect(JSON.stringify(views)).not.toContain(azuriteAccount.key);

    expect(await manager.test('minio')).toMatchObject({ ok: true });
    expect(await manager.test('blob')).toMatchObject({ ok: true });
    const down = await manager.test('down');
    expect(down.ok).toBe(false);
    expect(down.message).toMatch(/unreachable/);
    await expect(manager.save({ kind: 'gcs', id: 'gcs', label: 'GCS', bucket: 'a-bucket' })).rejects.toThrow(/HMAC/);
    expect(manager.list().some((view) => view.id === 'gcs')).toBe(false);
  });

  it('copies to several backends at once and reports the one that is down without hiding it', async () => {
    const local = manager.backend('local');
    await local.put('models/resnet.torshpkg', Readable.from([Buffer.alloc(200_000, 7)]), { cacheControl: 'immutable', metadata: { digest: 'sha256:feed' } });
    const progress: number[] = [];
    const results = await manager.copyToBackends('local', 'models/resnet.torshpkg', ['minio', 'blob', 'down'], { onProgress: (fraction) => progress.push(fraction) });
    expect(results.map((result) => [result.backendId, result.ok, result.size])).toEqual([
      ['minio', true, 200_000],
      ['blob', true, 200_000],
      ['down', false, null],
    ]);
    const failure = results[2];
    expect(failure?.error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(failure?.attempts).toBe(3);
    expect(await manager.head('minio', 'models/resnet.torshpkg')).toMatchObject({ size: 200_000, cacheControl: 'immutable', metadata: { digest: 'sha256:feed' } });
    expect((await text(await manager.backend('blob').get('models/resnet.torshpkg'))).length).toBe(200_000);
    expect(progress.at(-1)).toBeLessThan(1); // the failed third never counted as copied

    const stats = Object.fromEntries(manager.statistics().map((row) => [row.backendId, row]));
    expect(stats.minio).toMatchObject({ puts: 1, bytesWritten: 200_000, errors: 0 });
    expect(stats.local?.bytesRead).toBeGreaterThanOrEqual(400_000);
    expect(stats.down?.errors).toBeGreaterThanOrEqual(3);
    expect(stats.down?.lastError).toMatch(/unreachable/);
  });

  it('browses keys page by page and counts usage', async () => {
    for (let index = 0; index < 5; index += 1) await manager.backend('minio').put(`browse/${index}`, Readable.from([Buffer.from('x'.repeat(index + 1))]));
    const first = await manager.browse('minio', 'browse/', null, 2);
    expect(first.objects.map((object) => object.key)).toEqual(['browse/0', 'browse/1']);
    const second = await manager.browse('minio', 'browse/', first.nextCursor, 2);
    expect(second.objects.map((object) => object.key)).toEqual(['browse/2', 'browse/3']);
    expect(await manager.usage('minio', 'browse/')).toEqual({ objects: 5, bytes: 15, capacityBytes: null });
    await expect(manager.remove('local')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await manager.remove('down');
    expect(manager.list().map((view) => view.id)).toEqual(['local', 'minio', 'blob']);
  });
});
