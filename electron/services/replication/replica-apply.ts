import type { Readable } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import type { ReplicaMetaRecord } from '../../../shared/domain/replication';
import type { AccessControl } from '../access/access-control';
import type { RegistryService } from '../registry/registry-service';
import { receiveUpload } from '../registry/upload-receiver';

/** The registry a replica's records are applied to (a rebuild, or a registry peer receiving copies). */
export interface ReplicaApplyTarget {
  registry: RegistryService;
  access: AccessControl;
  tmpDir: string;
}

/**
 * A record's state on a version that exists: yank, signatures (a key's signature replaces that
 * key's earlier one, so replaying one is harmless), visibility. Returns how many signatures it holds.
 */
export async function applyRecordState(target: ReplicaApplyTarget, record: ReplicaMetaRecord): Promise<number> {
  const { registry, access } = target;
  if (registry.getVersion(record.name, record.version).yanked !== record.yanked) registry.setYanked(record.name, record.version, record.yanked);
  for (const signature of record.signatures) await registry.putSignature(record.name, record.version, signature, record.published_by, { id: null, mayReplaceAny: true });
  access.setPackageAccess(access.localContext(), record.name, { visibility: record.visibility });
  return record.signatures.length;
}

/**
 * Publishes a record's version from its bytes (validated and digest checked by the normal publish
 * path; an encrypted version goes back as the ciphertext it is), then applies its state.
 */
export async function publishFromRecord(target: ReplicaApplyTarget, record: ReplicaMetaRecord, open: () => Promise<Readable>): Promise<{ signatures: number }> {
  const { registry, tmpDir } = target;
  const upload = await receiveUpload(await open(), { tmpDir, maxBytes: Number.MAX_SAFE_INTEGER, name: 'replica' });
  if (`sha256:${upload.digestHex}` !== record.digest) throw new DepotError('DIGEST_MISMATCH', `the copy reads as sha256:${upload.digestHex}, not ${record.digest}`);
  const metadata = { description: record.manifest.description, author: record.manifest.author, license: record.manifest.license, tags: record.manifest.tags };
  try {
    await registry.publishUpload(upload, { name: record.name, version: record.version, metadata, publisher: record.published_by });
  } catch (error) {
    // The registry cannot read an encrypted version: it goes back as the ciphertext it was.
    if (!(error instanceof DepotError) || error.code !== 'INVALID_PACKAGE') throw error;
    const again = await receiveUpload(await open(), { tmpDir, maxBytes: Number.MAX_SAFE_INTEGER, name: 'replica' });
    await registry.publishSealedUpload(again, { name: record.name, version: record.version, metadata, dependencies: record.manifest.dependencies, publisher: record.published_by });
  }
  return { signatures: await applyRecordState(target, record) };
}
