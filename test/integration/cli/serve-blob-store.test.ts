import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCliProcess, startServe, stopAllServing } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';
import { startS3rver, s3rverCredentials, type RunningServer } from '../../support/object-servers';
import { S3Storage } from '../../../electron/services/storage/s3-storage';
import { parseServeArgs } from '../../../electron/cli/serve-command';

const adminKey = 'blob-store-admin-key-0123456789';
let s3: RunningServer;
let work: { dir: string; cleanup: () => void };

beforeAll(async () => {
  work = makeTempDir('torsh-blob-store-');
  s3 = await startS3rver(['depot-registry']);
});
afterAll(async () => {
  await stopAllServing();
  await s3?.stop();
  work?.cleanup();
});

function s3Env(): NodeJS.ProcessEnv {
  return { ...process.env, AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey, TORSH_DEPOT_ADMIN_KEY: adminKey };
}

function blobStoreUrl(prefix: string): string {
  return `s3://depot-registry/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&path_style=true&region=us-east-1`;
}

function bucket(): S3Storage {
  return new S3Storage({ bucket: 'depot-registry', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3rverCredentials, streamedChecksums: false });
}

describe('torsh-depot serve --blob-store', () => {
  it('parses the documented URL forms, with credentials from the environment only', () => {
    const parsed = parseServeArgs(['--blob-store', 's3://bucket-one/team/models?endpoint=http://127.0.0.1:4568&path_style=true&region=eu-west-1'], {
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    expect(parsed.blobStore).toEqual({
      config: expect.objectContaining({ kind: 's3', bucket: 'bucket-one', prefix: 'team/models', endpoint: 'http://127.0.0.1:4568', forcePathStyle: true, region: 'eu-west-1', streamedChecksums: false }),
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
    expect(parseServeArgs(['--blob-store', 'file:///srv/blobs'], {}).blobStore?.config).toMatchObject({ kind: 'local', path: '/srv/blobs' });
    expect(parseServeArgs(['--blob-store', 'azure://acct01/models/team?endpoint=http://127.0.0.1:10000/acct01'], { AZURE_STORAGE_SAS_TOKEN: 'sv=x' }).blobStore).toMatchObject({
      config: { kind: 'azure', account: 'acct01', container: 'models', prefix: 'team', endpoint: 'http://127.0.0.1:10000/acct01' },
      credentials: { sasToken: 'sv=x' },
    });
    expect(parseServeArgs(['--blob-store', 'gs://gcs-bucket/p'], { GCS_HMAC_ACCESS_KEY: 'GOOG1', GCS_HMAC_SECRET: 's' }).blobStore).toMatchObject({
      config: { kind: 'gcs', bucket: 'gcs-bucket', prefix: 'p' },
      credentials: { hmacAccessKey: 'GOOG1', hmacSecret: 's' },
    });
    for (const [url, why] of [
      ['ftp://bucket/x', /unsupported scheme "ftp"/],
      ['s3://Bad_Bucket', /bucket/],
      ['s3://bucket-one?bogus=1', /unknown option "bogus"/],
      ['s3://id:secret@bucket-one', /credentials do not belong in the URL/],
      ['azure://acct01/container', /AZURE_STORAGE_KEY/],
      ['gs://bucket-one', /GCS_HMAC_ACCESS_KEY/],
      ['not a url', /not a URL/],
    ] as const) {
      expect(() => parseServeArgs(['--blob-store', url], {}), url).toThrow(why);
    }
  });

  it('a bad URL or an unreachable store stops start-up with one clear line', async () => {
    const badUrl = await runCliProcess(['serve', '--port', '0', '--data-dir', path.join(work.dir, 'bad'), '--blob-store', 'ftp://x/y']);
    expect(badUrl.code).toBe(2);
    // One line says what is wrong; the usage text follows, as for every usage error.
    expect(badUrl.stderr.split('\n')[0]).toMatch(/^torsh-depot serve: --blob-store: Invalid blob store URL "ftp:\/\/x\/y": unsupported scheme "ftp"/);

    const unreachable = await runCliProcess(
      ['serve', '--port', '0', '--data-dir', path.join(work.dir, 'unreachable'), '--blob-store', 's3://depot-registry/x?endpoint=http://127.0.0.1:1&path_style=true'],
      s3Env(),
    );
    expect(unreachable.code).toBe(1);
    const lines = unreachable.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/blob store s3:\/\/depot-registry\/x .* is not usable: .*unreachable/);
    expect(unreachable.stderr).not.toContain(s3rverCredentials.secretAccessKey + '\n');
  });

  it('publishes into the bucket under <prefix>/blobs/sha256/<hex> and downloads back, also through presigned redirects', async () => {
    const host = await startServe(['--port', '0', '--data-dir', path.join(work.dir, 'data'), '--default-visibility', 'public', '--blob-store', blobStoreUrl('registry/main')], s3Env());
    const registry = new URL(host.url).origin;
    const packageFile = await makeTestPackage(work.dir, { name: 'vision/in-bucket', version: '1.0.0', files: { 'models/weights.pt': 3 * 1024 * 1024 } });
    const digest = createHash('sha256').update(readFileSync(packageFile)).digest('hex');
    const published = await runCliProcess(['publish', packageFile, '--registry', registry, '--api-key', adminKey]);
    expect(published.code, published.stderr).toBe(0);

    const object = await bucket().head(`registry/main/blobs/sha256/${digest}`);
    expect(object?.size).toBe(readFileSync(packageFile).length);

    const pulledFile = path.join(work.dir, 'pulled.torshpkg');
    const pulled = await runCliProcess(['pull', 'vision/in-bucket@1.0.0', '--registry', registry, '-o', pulledFile]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(createHash('sha256').update(readFileSync(pulledFile)).digest('hex')).toBe(digest);
    const range = await fetch(`${registry}/api/v1/packages/vision/in-bucket/1.0.0/download`, { headers: { Range: 'bytes=0-9' } });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).equals(readFileSync(packageFile).subarray(0, 10))).toBe(true);
    await host.stop();

    // Same data folder, now answering downloads with a redirect to the bucket.
    const redirecting = await startServe(
      ['--port', '0', '--data-dir', path.join(work.dir, 'data'), '--blob-store', blobStoreUrl('registry/main'), '--presigned-downloads'],
      s3Env(),
    );
    const origin = new URL(redirecting.url).origin;
    const answer = await fetch(`${origin}/api/v1/packages/vision/in-bucket/1.0.0/download`, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    const location = answer.headers.get('location') ?? '';
    expect(location).toContain(`${s3.endpoint}/depot-registry/registry/main/blobs/sha256/${digest}`);
    expect(location).toContain('X-Amz-Signature=');
    const viaRedirect = path.join(work.dir, 'via-redirect.torshpkg');
    const pulledAgain = await runCliProcess(['pull', 'vision/in-bucket@1.0.0', '--registry', origin, '-o', viaRedirect]);
    expect(pulledAgain.code, pulledAgain.stderr).toBe(0);
    expect(createHash('sha256').update(readFileSync(viaRedirect)).digest('hex')).toBe(digest);
    await redirecting.stop();
  }, 180_000);
});
