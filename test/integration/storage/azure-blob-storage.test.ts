import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { AzureBlobStorage, type AzureBlobStorageConfig } from '../../../electron/services/storage/azure-blob-storage';
import { startAzurite, azuriteAccount, type RunningServer } from '../../support/object-servers';
import { makeTempDir } from '../../support/temp-dir';
import { sha256Of, text, writeRandomFile } from './storage-test-support';

const MiB = 1024 * 1024;
let server: RunningServer;
let scratch: { dir: string; cleanup: () => void };
let accountUrl: string;

beforeAll(async () => {
  scratch = makeTempDir('torsh-azure-test-');
  server = await startAzurite();
  accountUrl = `${server.endpoint}/${azuriteAccount.name}`;
  const service = new BlobServiceClient(accountUrl, new StorageSharedKeyCredential(azuriteAccount.name, azuriteAccount.key));
  await service.createContainer('depot');
}, 90_000);
afterAll(async () => {
  await server?.stop();
  scratch?.cleanup();
});

function storage(overrides: Partial<AzureBlobStorageConfig> = {}): AzureBlobStorage {
  return new AzureBlobStorage({ account: azuriteAccount.name, container: 'depot', endpoint: accountUrl, accountKey: azuriteAccount.key, blockSizeBytes: 4 * MiB, concurrency: 4, ...overrides });
}

function containerSas(expiresOn: Date, permissions = 'racwdl'): string {
  return generateBlobSASQueryParameters(
    { containerName: 'depot', permissions: ContainerSASPermissions.parse(permissions), startsOn: new Date(Date.now() - 3_600_000), expiresOn },
    new StorageSharedKeyCredential(azuriteAccount.name, azuriteAccount.key),
  ).toString();
}

describe('AzureBlobStorage against Azurite', () => {
  it('puts, gets (whole and ranges), heads with metadata and Cache-Control, lists with pages, copies and deletes', async () => {
    const azure = storage({ prefix: 'team' });
    const bytes = Buffer.from('abcdefghij'.repeat(500));
    await azure.put('models/one.bin', Readable.from([bytes]), { contentType: 'application/x-torshpkg', cacheControl: 'public, max-age=60', metadata: { digest: 'sha256:abc', 'package-name': 'resnet' } });
    const info = await azure.head('models/one.bin');
    expect(info).toMatchObject({ key: 'models/one.bin', size: bytes.length, contentType: 'application/x-torshpkg', cacheControl: 'public, max-age=60', metadata: { digest: 'sha256:abc', 'package-name': 'resnet' } });
    expect(info?.etag).toMatch(/^"?0x[0-9A-F]+"?$/); // Azure ETags are quoted hex
    expect(await text(await azure.get('models/one.bin'))).toBe(bytes.toString());
    expect(await text(await azure.get('models/one.bin', { range: { start: 3, end: 7 } }))).toBe('defgh');

    for (let index = 0; index < 5; index += 1) await azure.put(`many/${index}`, Readable.from([Buffer.from(`blob ${index}`)]));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await azure.list('many/', { limit: 2, ...(cursor ? { cursor } : {}) });
      pages += 1;
      seen.push(...page.objects.map((object) => object.key));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['many/0', 'many/1', 'many/2', 'many/3', 'many/4']);

    const copied = await azure.copy('models/one.bin', 'models/copy.bin');
    expect(copied).toMatchObject({ size: bytes.length, metadata: { digest: 'sha256:abc' } });
    expect(await azure.usage()).toEqual({ objects: 7, bytes: 2 * bytes.length + 5 * 'blob 0'.length, capacityBytes: null });

    const url = await azure.presignGet('models/copy.bin', 300);
    const answer = await fetch(url);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe(bytes.toString());

    await azure.delete('models/copy.bin');
    await azure.delete('models/copy.bin');
    expect(await azure.head('models/copy.bin')).toBeNull();
    await expect(azure.get('models/copy.bin')).rejects.toMatchObject({ kind: 'NotFound', code: 'NOT_FOUND' });
  });

  it('uploads a 48 MiB file and stream in parallel blocks, byte for byte', async () => {
    const file = path.join(scratch.dir, 'big.bin');
    const digest = writeRandomFile(file, 48 * MiB);
    const azure = storage();
    expect((await azure.putFile('big/file', file)).size).toBe(48 * MiB);
    expect(await sha256Of(await azure.get('big/file'))).toBe(digest);
    const { createReadStream } = await import('node:fs');
    expect((await azure.put('big/stream', createReadStream(file))).size).toBe(48 * MiB);
    expect(await sha256Of(await azure.get('big/stream'))).toBe(digest);
  }, 180_000);

  it('works with a valid SAS token, and a wrong key or an expired SAS is AccessDenied', async () => {
    const withSas = storage({ accountKey: null, sasToken: containerSas(new Date(Date.now() + 3_600_000)) });
    await withSas.put('sas/object', Readable.from([Buffer.from('via sas')]));
    expect(await text(await withSas.get('sas/object'))).toBe('via sas');
    await expect(withSas.presignGet('sas/object', 60)).rejects.toMatchObject({ kind: 'InvalidConfig' });

    const wrongKey = storage({ accountKey: randomBytes(64).toString('base64') });
    await expect(wrongKey.check()).rejects.toMatchObject({ kind: 'AccessDenied', code: 'FORBIDDEN' });
    await expect(wrongKey.get('sas/object')).rejects.toMatchObject({ kind: 'AccessDenied' });

    const expired = storage({ accountKey: null, sasToken: containerSas(new Date(Date.now() - 60_000)) });
    const failure = await expired.get('sas/object').catch((error: unknown) => error);
    expect(failure).toMatchObject({ kind: 'AccessDenied', code: 'FORBIDDEN' });
    expect((failure as Error).message).toMatch(/AuthenticationFailed|AuthorizationFailure|expired|403/i);
  });

  it('types a missing container and an unreachable endpoint', async () => {
    await expect(storage({ container: 'missing-container' }).check()).rejects.toMatchObject({ kind: 'InvalidConfig' });
    await expect(storage({ endpoint: `http://127.0.0.1:1/${azuriteAccount.name}` }).check()).rejects.toMatchObject({ kind: 'Unavailable', code: 'UNAVAILABLE' });
    expect(() => storage({ accountKey: null })).toThrow(/account key or a SAS/);
  });
});
