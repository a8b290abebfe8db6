import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  cacheControlFor,
  cachePolicyOf,
  cdnBlobKey,
  cdnIndexKey,
  cdnSignatureKey,
  surrogateKeysFor,
  type CachePolicyName,
  type CdnSection,
  type PackageVisibilityName,
} from '../../../shared/domain/cdn';
import { DepotError } from '../../../shared/errors';
import type { StorageBackend } from '../storage/storage-backend';

/** Where `cdn upload` reads a version from: the registry (over HTTP, or in-process in the desktop). */
export interface CdnPackageSource {
  /** Size, digest and who may see the version (anonymous readers → public). */
  describe(name: string, version: string, signal?: AbortSignal): Promise<{ size: number; digest: string; visibility: PackageVisibilityName }>;
  /** Writes the verified blob to `destPath`. */
  fetchBlob(name: string, version: string, destPath: string, signal?: AbortSignal): Promise<void>;
  /** The version's minisign signature, or null. */
  signature(name: string, version: string, signal?: AbortSignal): Promise<string | null>;
  /** Versions of the package, for its index object. */
  versions(name: string, signal?: AbortSignal): Promise<{ version: string; size: number; digest: string; yanked: boolean }[]>;
}

export interface UploadedObject {
  key: string;
  size: number;
  cacheControl: string;
  policy: CachePolicyName;
  surrogateKeys: string[];
}

export interface CdnUploadResult {
  name: string;
  version: string;
  visibility: PackageVisibilityName;
  objects: UploadedObject[];
}

/**
 * Puts a version on the CDN origin (any storage backend) under stable, versioned keys, with the
 * Cache-Control of its policy and its surrogate keys as object metadata. Private and internal
 * versions never reach a public origin unless a signed-URL scheme guards it — refused before any
 * byte is written.
 */
export async function uploadToOrigin(
  source: CdnPackageSource,
  origin: StorageBackend,
  section: Pick<CdnSection, 'origin' | 'policies' | 'signed_urls'>,
  name: string,
  version: string,
  options: { signal?: AbortSignal; tmpDir?: string; onProgress?: (bytes: number) => void } = {},
): Promise<CdnUploadResult> {
  const { signal } = options;
  const described = await source.describe(name, version, signal);
  assertMayUpload(section, name, version, described.visibility);
  const blobPolicy = cachePolicyOf('blob', described.visibility);
  const indexPolicy = cachePolicyOf('index', described.visibility);
  const objects: UploadedObject[] = [];
  const tmp = await mkdtemp(path.join(options.tmpDir ?? os.tmpdir(), 'torsh-cdn-upload-'));
  try {
    const file = path.join(tmp, 'blob');
    await source.fetchBlob(name, version, file, signal);
    const blobKeys = surrogateKeysFor(name, version);
    const blob = await origin.putFile(cdnBlobKey(name, version), file, {
      contentType: 'application/octet-stream',
      cacheControl: cacheControlFor(blobPolicy, section.policies),
      metadata: { 'surrogate-key': blobKeys.join(' '), digest: described.digest },
      ...(signal ? { signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    objects.push({ key: blob.key, size: blob.size, cacheControl: cacheControlFor(blobPolicy, section.policies), policy: blobPolicy, surrogateKeys: blobKeys });

    const signature = await source.signature(name, version, signal);
    // New signatures can be added to a version: its signature object follows the index policy.
    if (signature !== null) objects.push(await putText(origin, cdnSignatureKey(name, version), signature, 'text/plain; charset=utf-8', indexPolicy, section, blobKeys, signal));

    const versions = await source.versions(name, signal);
    const index = JSON.stringify({ name, versions: versions.map((entry) => ({ ...entry, key: cdnBlobKey(name, entry.version) })) }, null, 2);
    objects.push(await putText(origin, cdnIndexKey(name), index, 'application/json', indexPolicy, section, surrogateKeysFor(name), signal));
    return { name, version, visibility: described.visibility, objects };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Refuses private/internal versions on a public origin without a signed-URL scheme. */
export function assertMayUpload(section: Pick<CdnSection, 'origin' | 'signed_urls'>, name: string, version: string, visibility: PackageVisibilityName): void {
  if (visibility === 'public' || !section.origin.public || section.signed_urls !== undefined) return;
  throw new DepotError('FORBIDDEN', `${name}@${version} is ${visibility}: it does not go to a public CDN origin unless cdn.signed_urls names a scheme (cloudfront or cloudflare-token).`, {
    reason: 'cdn-private-on-public-origin',
  });
}

async function putText(
  origin: StorageBackend,
  key: string,
  text: string,
  contentType: string,
  policy: CachePolicyName,
  section: Pick<CdnSection, 'policies'>,
  surrogateKeys: string[],
  signal: AbortSignal | undefined,
): Promise<UploadedObject> {
  const cacheControl = cacheControlFor(policy, section.policies);
  const stored = await origin.put(key, Readable.from([Buffer.from(text)]), { contentType, cacheControl, metadata: { 'surrogate-key': surrogateKeys.join(' ') }, ...(signal ? { signal } : {}) });
  return { key: stored.key, size: stored.size, cacheControl, policy, surrogateKeys };
}
