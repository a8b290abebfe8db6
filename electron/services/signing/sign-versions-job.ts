import { DepotError } from '../../../shared/errors';
import type { JobContext } from '../jobs/job-runner';
import type { RegistryService } from '../registry/registry-service';
import { digestStreamForSigning, signDigests } from './file-signature';
import type { SigningKeyring } from './signing-keyring';
import { localUserId } from '../access/access-control';

export interface SignVersionsResult {
  signed: number;
  skipped: number;
  retiredKeyId: string | null;
}

const pageSize = 200;
/** This install's own user; versions it already signed are skipped, so it never replaces a signature here. */
const localSigner = { id: localUserId, mayReplaceAny: false } as const;

/**
 * Key rotation: signs every published version of the local registry with `keyId` (versions it already
 * signed are skipped), then retires `retireKeyId`. Cancelling stops between versions and retires nothing.
 */
export async function signAllVersions(registry: RegistryService, keyring: SigningKeyring, keyId: string, retireKeyId: string | null, context: JobContext): Promise<SignVersionsResult> {
  if (retireKeyId === keyId) throw new DepotError('VALIDATION_FAILED', 'The new key cannot be the one being retired.');
  const pair = keyring.pair(keyId);
  const { total } = registry.listVersionRows(0, 1);
  let signed = 0;
  let skipped = 0;
  for (let offset = 0; offset < total; offset += pageSize) {
    for (const row of registry.listVersionRows(offset, pageSize).rows) {
      context.signal.throwIfAborted();
      const done = signed + skipped;
      context.reportProgress(total === 0 ? 1 : done / total, `Signing ${row.name}@${row.version} (${done + 1} of ${total})`);
      const metadata = registry.getVersion(row.name, row.version);
      if (metadata.signatures?.some((signature) => signature.key_id === keyId)) {
        skipped += 1;
        continue;
      }
      const { stream } = await registry.openDownload(row.name, row.version);
      const digests = await digestStreamForSigning(stream, context.signal);
      const signature = signDigests(pair, digests, { name: row.name, version: row.version }, `${row.name}-${row.version}.torshpkg`);
      await registry.putSignature(row.name, row.version, signature, 'local-user', localSigner, { signal: context.signal, blake2b512: digests.blake2b512 });
      signed += 1;
    }
  }
  context.signal.throwIfAborted();
  if (retireKeyId !== null) await keyring.retire(retireKeyId);
  context.reportProgress(1, `Signed ${signed} version(s)`);
  return { signed, skipped, retiredKeyId: retireKeyId };
}
