import { describe, expect, it } from 'vitest';
import { storageBackendConfigSchema } from '../../../../shared/domain/storage';
import { createStorageBackend, gcsEndpoint, gcsStorageConfig, s3StorageConfig } from '../../../../electron/services/storage/storage-factory';

// No GCS server can run here: these tests check the mapping to GCS's S3-compatible XML API only.
describe('GCS as an S3 preset', () => {
  const gcs = storageBackendConfigSchema.parse({ kind: 'gcs', id: 'gcs', label: 'GCS', bucket: 'models-eu', prefix: 'team/a', partSizeMiB: 32, concurrency: 8 });

  it('maps to the XML API endpoint with HMAC keys, path-style, region auto and no streamed checksums', () => {
    if (gcs.kind !== 'gcs') throw new Error('unreachable');
    expect(gcsStorageConfig(gcs, { hmacAccessKey: 'GOOG1EXAMPLE', hmacSecret: 'secret' }, null)).toEqual({
      kind: 'gcs',
      bucket: 'models-eu',
      prefix: 'team/a',
      region: 'auto',
      endpoint: gcsEndpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'GOOG1EXAMPLE', secretAccessKey: 'secret' },
      partSizeBytes: 32 * 1024 * 1024,
      concurrency: 8,
      streamedChecksums: false,
      journal: null,
    });
    expect(gcsEndpoint).toBe('https://storage.googleapis.com');
    const backend = createStorageBackend({ config: gcs, credentials: { hmacAccessKey: 'GOOG1EXAMPLE', hmacSecret: 'secret' } });
    expect(backend.kind).toBe('gcs');
    expect(backend.description).toBe('gs://models-eu/team/a');
  });

  it('refuses a GCS backend without both HMAC values', () => {
    if (gcs.kind !== 'gcs') throw new Error('unreachable');
    expect(() => gcsStorageConfig(gcs, { hmacAccessKey: 'GOOG1EXAMPLE' }, null)).toThrow(/HMAC/);
  });

  it('maps S3 settings, and uses the SDK default chain when no keys are given', () => {
    const s3 = storageBackendConfigSchema.parse({ kind: 's3', id: 'aws', label: 'AWS', bucket: 'models', serverSideEncryption: 'aws:kms', kmsKeyId: 'key-1', storageClass: 'STANDARD_IA' });
    if (s3.kind !== 's3') throw new Error('unreachable');
    expect(s3StorageConfig(s3, {}, null)).toMatchObject({ credentials: null, endpoint: null, forcePathStyle: false, streamedChecksums: true, serverSideEncryption: 'aws:kms', kmsKeyId: 'key-1', storageClass: 'STANDARD_IA' });
    expect(() => s3StorageConfig(s3, { accessKeyId: 'only-id' }, null)).toThrow(/both/);
    expect(storageBackendConfigSchema.safeParse({ kind: 's3', id: 'x', label: 'x', bucket: 'Upper_Case' }).success).toBe(false);
  });
});
