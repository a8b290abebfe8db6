import path from 'node:path';
import type { StorageBackendConfig, StorageCredentials } from '../../../shared/domain/storage';
import { StorageError } from './storage-errors';
import { LocalStorage } from './local-storage';
import { S3Storage, type S3StorageConfig } from './s3-storage';
import { AzureBlobStorage } from './azure-blob-storage';
import type { MultipartJournal } from './multipart-journal';
import type { StorageBackend } from './storage-backend';

const MiB = 1024 * 1024;
/** GCS's S3-compatible XML API: HMAC keys sign requests like AWS keys do. */
export const gcsEndpoint = 'https://storage.googleapis.com';

/** A backend's configuration and the secrets it needs: everything to build it. */
export interface StorageLocation {
  config: StorageBackendConfig;
  credentials: StorageCredentials;
}

export function s3StorageConfig(config: Extract<StorageBackendConfig, { kind: 's3' }>, credentials: StorageCredentials, journal: MultipartJournal | null): S3StorageConfig {
  const { accessKeyId, secretAccessKey, sessionToken } = credentials;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) throw new StorageError('InvalidConfig', `${config.label}: give both the access key id and the secret access key`);
  return {
    kind: 's3',
    bucket: config.bucket,
    prefix: config.prefix,
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : null,
    partSizeBytes: config.partSizeMiB * MiB,
    concurrency: config.concurrency,
    serverSideEncryption: config.serverSideEncryption,
    kmsKeyId: config.kmsKeyId,
    storageClass: config.storageClass,
    streamedChecksums: config.streamedChecksums,
    journal,
  };
}

/**
 * GCS as an S3 preset: the XML API endpoint, path-style addressing, region `auto`, HMAC keys, and
 * checksums only where required (GCS rejects the aws-chunked streaming encoding).
 */
export function gcsStorageConfig(config: Extract<StorageBackendConfig, { kind: 'gcs' }>, credentials: StorageCredentials, journal: MultipartJournal | null): S3StorageConfig {
  const { hmacAccessKey, hmacSecret } = credentials;
  if (!hmacAccessKey || !hmacSecret) throw new StorageError('InvalidConfig', `${config.label}: GCS needs an HMAC access key and secret`);
  return {
    kind: 'gcs',
    bucket: config.bucket,
    prefix: config.prefix,
    region: 'auto',
    endpoint: gcsEndpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: hmacAccessKey, secretAccessKey: hmacSecret },
    partSizeBytes: config.partSizeMiB * MiB,
    concurrency: config.concurrency,
    streamedChecksums: false,
    journal,
  };
}

/** Builds the backend a configuration describes. Throws StorageError('InvalidConfig') on bad settings. */
export function createStorageBackend(location: StorageLocation, options: { journal?: MultipartJournal | null } = {}): StorageBackend {
  const { config, credentials } = location;
  const journal = options.journal ?? null;
  switch (config.kind) {
    case 'local':
      if (!path.isAbsolute(config.path)) throw new StorageError('InvalidConfig', `${config.label}: the folder must be an absolute path`);
      return new LocalStorage(config.path);
    case 's3':
      return new S3Storage(s3StorageConfig(config, credentials, journal));
    case 'gcs':
      return new S3Storage(gcsStorageConfig(config, credentials, journal));
    case 'azure':
      return new AzureBlobStorage({
        account: config.account,
        container: config.container,
        prefix: config.prefix,
        endpoint: config.endpoint,
        accountKey: credentials.accountKey ?? null,
        sasToken: credentials.sasToken ?? null,
        blockSizeBytes: config.blockSizeMiB * MiB,
        concurrency: config.concurrency,
        accessTier: config.accessTier,
      });
  }
}
