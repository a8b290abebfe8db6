import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mirrorIndexFormat, type MirrorIndex, type MirrorIndexEntry, type MirrorSyncResult } from '../../../shared/domain/mirrors';
import { DepotError } from '../../../shared/errors';
import { formatKeyId, type SigningKeyPair } from '../signing/ed25519-keys';
import { encodePublicKey } from '../signing/minisign-format';
import type { StorageBackend } from '../storage/storage-backend';
import { throwIfCancelled } from '../retry/retry-backoff';
import { encodeSignedMirrorIndex, parseMirrorIndex } from './mirror-index';
import { mirrorBlobPath, mirrorIndexFile, mirrorIndexSignatureFile, mirrorPublicKeyFile, mirrorSignaturePath } from './mirror-layout';
import type { MirrorSource, MirrorSourceVersion } from './mirror-source';

export interface MirrorSyncOptions {
  source: MirrorSource;
  target: StorageBackend;
  /** Signs `index.json` (its public half is written as `registry.pub`). */
  signer: SigningKeyPair;
  /** Remove what the registry no longer has (after the new index is in place). */
  prune: boolean;
  /** Scratch folder for verifying a blob before it is stored. */
  tmpDir: string;
  signal?: AbortSignal;
  /** Bytes copied so far of the bytes to copy, and a line of what is happening. */
  onProgress?: (done: number, total: number, message: string) => void;
  now?: () => Date;
}

/**
 * `mirror sync`: makes a storage target (file://, s3://, azure://, gs://) hold the mirror layout of a
 * registry. Incremental: versions the target's current index names, or whose blob is already there
 * with the right size and digest, are skipped. Each blob is downloaded to a temp file, its SHA-256
 * checked against the registry's, then stored; signatures beside it; `registry.pub` and
 * `index.json.minisig`; and `index.json` last, so a reader never sees an index naming a blob that is
 * not there yet. Killed half-way, a rerun skips what was stored and finishes.
 */
export async function syncMirror(options: MirrorSyncOptions): Promise<MirrorSyncResult> {
  const { source, target, signal } = options;
  const snapshot = await source.snapshot(signal);
  const previous = await readTargetIndex(target);
  const previousByKey = new Map((previous?.versions ?? []).map((entry) => [`${entry.name}@${entry.version}`, entry]));
  const wanted = new Map<string, MirrorSourceVersion>();
  for (const version of snapshot.versions) {
    mirrorBlobPath(version.name, version.version);
    wanted.set(`${version.name}@${version.version}`, version);
  }

  const entries: MirrorIndexEntry[] = [];
  const toCopy: MirrorSourceVersion[] = [];
  let skipped = 0;
  for (const [key, version] of wanted) {
    throwIfCancelled(signal);
    const known = previousByKey.get(key);
    const blobPath = mirrorBlobPath(version.name, version.version);
    if (known && known.sha256 === version.sha256 && known.size === version.size && known.signature === version.signed) {
      entries.push({ ...known, yanked: version.yanked });
      skipped += 1;
      continue;
    }
    const present = await target.head(blobPath);
    if (present && present.size === version.size && (present.metadata?.sha256 ?? version.sha256) === version.sha256 && (!version.signed || (await target.head(`${blobPath}.minisig`)))) {
      entries.push(entryFor(version, present.metadata?.blake2b ?? null));
      skipped += 1;
      continue;
    }
    toCopy.push(version);
  }

  const total = toCopy.reduce((sum, version) => sum + version.size, 0);
  let done = 0;
  let copiedBytes = 0;
  options.onProgress?.(0, total, `${toCopy.length} version(s) to copy, ${skipped} already there`);
  for (const version of toCopy) {
    throwIfCancelled(signal);
    const blake2b = await copyVersion(options, version, (bytes) => {
      done += bytes;
      options.onProgress?.(done, total, `${version.name}@${version.version}`);
    });
    copiedBytes += version.size;
    entries.push(entryFor(version, blake2b));
  }

  // Without --prune, versions the registry no longer lists stay (their blobs are still there).
  if (!options.prune) for (const [key, entry] of previousByKey) if (!wanted.has(key)) entries.push(entry);
  entries.sort((a, b) => (a.name === b.name ? semver.compare(a.version, b.version) : a.name < b.name ? -1 : 1));

  throwIfCancelled(signal);
  const index: MirrorIndex = {
    format: mirrorIndexFormat,
    serial: snapshot.serial,
    generated_at: (options.now ?? (() => new Date()))().toISOString(),
    registry: snapshot.registry,
    key_id: formatKeyId(options.signer.keyId),
    versions: entries,
  };
  const signed = encodeSignedMirrorIndex(index, options.signer);
  await target.put(mirrorPublicKeyFile, Readable.from([Buffer.from(encodePublicKey(options.signer))]), { contentType: 'text/plain', cacheControl: 'no-cache' });
  await target.put(mirrorIndexSignatureFile, Readable.from([Buffer.from(signed.signature)]), { contentType: 'text/plain', cacheControl: 'no-cache' });
  await target.put(mirrorIndexFile, Readable.from([signed.bytes]), { contentType: 'application/json', cacheControl: 'no-cache' });

  let pruned = 0;
  if (options.prune) pruned = await pruneTarget(target, new Set(entries.flatMap((entry) => [entry.path, `${entry.path}.minisig`])), signal);
  options.onProgress?.(total, total, `index.json at serial ${snapshot.serial}: ${entries.length} version(s)`);
  return { target: target.description, serial: snapshot.serial, copied: toCopy.length, copiedBytes, skipped, pruned, versions: entries.length };
}

function entryFor(version: MirrorSourceVersion, blake2b: string | null): MirrorIndexEntry {
  return {
    name: version.name,
    version: version.version,
    size: version.size,
    sha256: version.sha256,
    blake2b: blake2b !== null && /^[0-9a-f]{128}$/.test(blake2b) ? blake2b : null,
    yanked: version.yanked,
    signature: version.signed,
    path: mirrorBlobPath(version.name, version.version),
  };
}

/** Downloads one blob to a temp file while hashing it, checks size and SHA-256, then stores it and its signature. */
async function copyVersion(options: MirrorSyncOptions, version: MirrorSourceVersion, onBytes: (bytes: number) => void): Promise<string> {
  const { source, target, signal } = options;
  const temp = path.join(options.tmpDir, `mirror-sync-${randomBytes(8).toString('hex')}.part`);
  await fsp.mkdir(options.tmpDir, { recursive: true });
  const sha256 = createHash('sha256');
  const blake2b = createHash('blake2b512');
  let size = 0;
  try {
    const body = await source.openBlob(version.name, version.version, signal);
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sha256.update(chunk);
        blake2b.update(chunk);
        size += chunk.length;
        onBytes(chunk.length);
        callback(null, chunk);
      },
    });
    await pipeline(body, hasher, createWriteStream(temp, { flags: 'wx' }), signal ? { signal } : {});
    const digest = sha256.digest('hex');
    if (size !== version.size || digest !== version.sha256) {
      throw new DepotError('DIGEST_MISMATCH', `${version.name}@${version.version} from ${source.description} is ${size} bytes with sha256 ${digest}, not the ${version.size} bytes and ${version.sha256} the registry states; nothing was stored.`);
    }
    const blake = blake2b.digest('hex');
    const blobPath = mirrorBlobPath(version.name, version.version);
    const signature = version.signed ? await source.signature(version.name, version.version, signal) : null;
    await target.putFile(blobPath, temp, { contentType: 'application/octet-stream', cacheControl: 'public, max-age=31536000, immutable', metadata: { sha256: digest, blake2b: blake }, ...(signal ? { signal } : {}) });
    if (signature !== null) await target.put(mirrorSignaturePath(version.name, version.version), Readable.from([Buffer.from(signature)]), { contentType: 'text/plain', ...(signal ? { signal } : {}) });
    return blake;
  } finally {
    await fsp.rm(temp, { force: true });
  }
}

async function readTargetIndex(target: StorageBackend): Promise<MirrorIndex | null> {
  if (!(await target.head(mirrorIndexFile))) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of await target.get(mirrorIndexFile)) chunks.push(chunk as Buffer);
  try {
    // The target is ours (we wrote it): its index is read only to skip work, never to trust digests.
    return parseMirrorIndex(Buffer.concat(chunks));
  } catch {
    return null;
  }
}

async function pruneTarget(target: StorageBackend, keep: Set<string>, signal: AbortSignal | undefined): Promise<number> {
  let removed = 0;
  let cursor: string | null = null;
  const doomed: string[] = [];
  do {
    const page = await target.list('packages/', { limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const object of page.objects) if (!keep.has(object.key)) doomed.push(object.key);
    cursor = page.nextCursor;
  } while (cursor !== null);
  for (const key of doomed) {
    throwIfCancelled(signal);
    await target.delete(key);
    removed += 1;
  }
  return removed;
}
