import { fileURLToPath } from 'node:url';
import { storageBackendConfigSchema, type StorageBackendConfigInput, type StorageCredentials } from '../../../shared/domain/storage';
import { StorageError } from './storage-errors';
import type { StorageLocation } from './storage-factory';

/**
 * `--blob-store <url>` of the headless host:
 *   file:///path
 *   s3://bucket/prefix?endpoint=http://127.0.0.1:4568&path_style=true&region=us-east-1
 *     [&part_size_mib=16&concurrency=4&sse=AES256|aws:kms&kms_key_id=…&storage_class=…&streamed_checksums=true|false]
 *     credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN], else the SDK's default chain
 *   azure://account/container/prefix?endpoint=…[&access_tier=Cool]   (AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN)
 *   gs://bucket/prefix   (GCS_HMAC_ACCESS_KEY / GCS_HMAC_SECRET)
 * Secrets never go in the URL: it is printed in logs.
 */
export function parseBlobStoreUrl(text: string, env: NodeJS.ProcessEnv): StorageLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(text, 'not a URL (use file:///path, s3://bucket/prefix, azure://account/container/prefix or gs://bucket/prefix)');
  }
  if (url.username || url.password) throw invalid(text, 'credentials do not belong in the URL; use the environment variables');
  const query = url.searchParams;
  const known = new Set(['endpoint', 'path_style', 'region', 'part_size_mib', 'concurrency', 'sse', 'kms_key_id', 'storage_class', 'streamed_checksums', 'access_tier', 'block_size_mib']);
  for (const name of query.keys()) if (!known.has(name)) throw invalid(text, `unknown option "${name}"`);
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const common = { id: 'blob-store', label: redactedUrl(url) };
  let input: StorageBackendConfigInput;
  let credentials: StorageCredentials = {};
  switch (url.protocol) {
    case 'file:':
      if (url.host !== '' && url.host !== 'localhost') throw invalid(text, 'file URLs name a local folder: file:///absolute/path');
      input = { ...common, kind: 'local', path: fileURLToPath(url) };
      break;
    case 's3:': {
      const endpoint = query.get('endpoint');
      input = {
        ...common,
        kind: 's3',
        bucket: url.hostname,
        prefix: segments.join('/'),
        region: query.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
        endpoint,
        forcePathStyle: flag(text, query, 'path_style', endpoint !== null),
        ...optionalInt(text, query, 'part_size_mib', 'partSizeMiB'),
        ...optionalInt(text, query, 'concurrency', 'concurrency'),
        serverSideEncryption: enumOption(text, query, 'sse', ['AES256', 'aws:kms'] as const),
        kmsKeyId: query.get('kms_key_id'),
        storageClass: query.get('storage_class'),
        // Custom endpoints are S3-compatible servers: many reject streamed checksums, so default off there.
        streamedChecksums: flag(text, query, 'streamed_checksums', endpoint === null),
      };
      credentials = pick({ accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN });
      break;
    }
    case 'azure:': {
      const [container, ...rest] = segments;
      if (!container) throw invalid(text, 'expected azure://account/container[/prefix]');
      input = {
        ...common,
        kind: 'azure',
        account: url.hostname,
        container,
        prefix: rest.join('/'),
        endpoint: query.get('endpoint'),
        accessTier: enumOption(text, query, 'access_tier', ['Hot', 'Cool', 'Cold', 'Archive'] as const),
        ...optionalInt(text, query, 'block_size_mib', 'blockSizeMiB'),
        ...optionalInt(text, query, 'concurrency', 'concurrency'),
      };
      credentials = pick({ accountKey: env.AZURE_STORAGE_KEY, sasToken: env.AZURE_STORAGE_SAS_TOKEN });
      if (!credentials.accountKey && !credentials.sasToken) throw invalid(text, 'set AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN');
      break;
    }
    case 'gs:':
      input = { ...common, kind: 'gcs', bucket: url.hostname, prefix: segments.join('/'), ...optionalInt(text, query, 'part_size_mib', 'partSizeMiB'), ...optionalInt(text, query, 'concurrency', 'concurrency') };
      credentials = pick({ hmacAccessKey: env.GCS_HMAC_ACCESS_KEY, hmacSecret: env.GCS_HMAC_SECRET });
      if (!credentials.hmacAccessKey || !credentials.hmacSecret) throw invalid(text, 'set GCS_HMAC_ACCESS_KEY and GCS_HMAC_SECRET');
      break;
    default:
      throw invalid(text, `unsupported scheme "${url.protocol.replace(/:$/, '')}" (file, s3, azure, gs)`);
  }
  const parsed = storageBackendConfigSchema.safeParse(input);
  if (!parsed.success) throw invalid(text, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  return { config: parsed.data, credentials };
}

function invalid(text: string, why: string): StorageError {
  return new StorageError('InvalidConfig', `Invalid blob store URL ${JSON.stringify(text.slice(0, 300))}: ${why}`);
}

function redactedUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`.slice(0, 100);
}

function flag(text: string, query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  if (value === null) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalid(text, `${name} must be true or false`);
}

function optionalInt<K extends string>(text: string, query: URLSearchParams, name: string, key: K): Partial<Record<K, number>> {
  const value = query.get(name);
  if (value === null) return {};
  if (!/^\d{1,6}$/.test(value)) throw invalid(text, `${name} must be a whole number`);
  return { [key]: Number(value) } as Partial<Record<K, number>>;
}

function enumOption<T extends string>(text: string, query: URLSearchParams, name: string, allowed: readonly T[]): T | null {
  const value = query.get(name);
  if (value === null) return null;
  if (!(allowed as readonly string[]).includes(value)) throw invalid(text, `${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function pick(values: StorageCredentials): StorageCredentials {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => typeof value === 'string' && value !== '')) as StorageCredentials;
}
