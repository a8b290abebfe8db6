import type { Database } from 'better-sqlite3';
import { DepotError } from '../../../shared/errors';
import type { SignatureState, SignatureSummary } from '../../../shared/domain/registry';
import type { BlobStore } from '../blobs/blob-store';
import { formatKeyId } from '../signing/ed25519-keys';
import { assertSignatureText, checkSignature, digestStreamForSigning } from '../signing/file-signature';
import { parseTrustedComment } from '../signing/trusted-comment';
import type { TrustStore } from '../signing/trust-store';
import { decodePublicKey } from '../signing/minisign-format';

interface SignatureRow {
  key_id: string;
  signature: string;
  blake2b512: string;
  signed_at: string | null;
}

/** Who uploads a signature: only the uploader of a key's signature, or a holder of ManageSecurity, may replace it. */
export interface SignatureUploader {
  /** The uploading user's id (null: nobody in particular, who can never replace). */
  id: string | null;
  /** Holds ManageSecurity on the package: may replace anyone's signature. */
  mayReplaceAny: boolean;
}

export interface VersionIdentity {
  name: string;
  version: string;
  digest: string;
}

/**
 * Minisign signatures of published versions: several per version, one per key id (a new upload by the
 * same key replaces the old one). The trusted comment must name the version exactly.
 */
export class RegistrySignatures {
  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
    private readonly trust: TrustStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Stores a signature after checking it names this version; a trusted key's signature must also verify.
   * `blake2b512` is the blob's digest when the caller has just computed it from the same bytes (signing on
   * publish); otherwise the blob is read and hashed here.
   */
  async put(
    version: VersionIdentity,
    text: string,
    uploadedBy: string | null,
    uploader: SignatureUploader,
    options: { signal?: AbortSignal | undefined; blake2b512?: Buffer } = {},
  ): Promise<SignatureSummary> {
    const parsed = assertSignatureText(text);
    if (!parsed.prehashed) throw new DepotError('VALIDATION_FAILED', 'Only pre-hashed (ED) minisign signatures are accepted; sign with minisign -H or torsh-depot sign.', { reason: 'legacy-signature' });
    const keyId = formatKeyId(parsed.keyId);
    // Refused before the blob is read; checked again right before the write (no await in between).
    this.assertMayReplace(this.versionId(version), keyId, uploader);
    const claims = parseTrustedComment(parsed.trustedComment);
    const sha256 = version.digest.replace(/^sha256:/, '');
    if (claims.name !== version.name || claims.version !== version.version || claims.sha256 !== sha256) {
      throw new DepotError('VALIDATION_FAILED', `The signature's trusted comment does not name ${version.name}@${version.version} with digest ${version.digest}.`, { reason: 'claims-mismatch' });
    }
    const digests = options.blake2b512 ? { blake2b512: options.blake2b512 } : await digestStreamForSigning(await this.blobs.open(sha256), options.signal);
    const trusted = this.trust.find(keyId);
    if (trusted && trusted.retiredAt === null) {
      const check = checkSignature(text, [decodePublicKey(trusted.publicKey)], digests, { ...version, sha256, strict: true });
      if (!check.valid) throw new DepotError('VALIDATION_FAILED', check.message, { reason: 'bad-signature' });
    }
    const versionId = this.versionId(version);
    this.assertMayReplace(versionId, keyId, uploader);
    this.db
      .prepare(`INSERT INTO package_signatures (version_id, key_id, signature, blake2b512, signed_at, uploaded_at, uploaded_by, uploader_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (version_id, key_id) DO UPDATE SET signature = excluded.signature, signed_at = excluded.signed_at, uploaded_at = excluded.uploaded_at,
          uploaded_by = excluded.uploaded_by, uploader_id = excluded.uploader_id`)
      .run(versionId, keyId, text, digests.blake2b512.toString('hex'), claims.timestamp === null ? null : new Date(claims.timestamp * 1000).toISOString(), this.now().toISOString(), uploadedBy, uploader.id);
    return this.summaries(version).find((summary) => summary.key_id === keyId) ?? { key_id: keyId, trusted: false, signed_at: null, state: 'untrusted' };
  }

  /**
   * A key's signature, once stored, is its uploader's: anyone else could otherwise replace a valid
   * signature by an untrusted key with garbage that claims the same key id.
   */
  private assertMayReplace(versionId: number, keyId: string, uploader: SignatureUploader): void {
    if (uploader.mayReplaceAny) return;
    const existing = this.db.prepare('SELECT uploader_id FROM package_signatures WHERE version_id = ? AND key_id = ?').get(versionId, keyId) as { uploader_id: string | null } | undefined;
    if (!existing || (existing.uploader_id !== null && existing.uploader_id === uploader.id)) return;
    throw new DepotError('FORBIDDEN', `The signature by key ${keyId} was uploaded by someone else: only its uploader or a holder of ManageSecurity may replace it.`, { reason: 'signature-owned' });
  }

  /** The signature by `keyId`, or (without one) the best: a trusted one first, then the newest. */
  get(version: VersionIdentity, keyId?: string): string {
    const rows = this.rows(version);
    const trusted = (row: SignatureRow): number => Number(this.stateOf(version, row) === 'trusted');
    const row = keyId !== undefined ? rows.find((candidate) => candidate.key_id === keyId) : [...rows].sort((a, b) => trusted(b) - trusted(a))[0];
    if (!row) throw new DepotError('NOT_FOUND', `${version.name}@${version.version} has no signature${keyId ? ` by key ${keyId}` : ''}.`, { reason: 'no-signature' });
    return row.signature;
  }

  summaries(version: VersionIdentity): SignatureSummary[] {
    return this.rows(version).map((row) => {
      const state = this.stateOf(version, row);
      return { key_id: row.key_id, trusted: state === 'trusted', signed_at: row.signed_at, state };
    });
  }

  /** Judged now, against today's trust store: trusting a key later can turn a stored signature invalid. */
  private stateOf(version: VersionIdentity, row: SignatureRow): SignatureState {
    const key = this.trust.find(row.key_id);
    if (!key || key.retiredAt !== null) return 'untrusted';
    const check = checkSignature(row.signature, [decodePublicKey(key.publicKey)], { blake2b512: Buffer.from(row.blake2b512, 'hex') }, { ...version, sha256: version.digest, strict: true });
    return check.valid ? 'trusted' : 'invalid';
  }

  private rows(version: VersionIdentity): SignatureRow[] {
    return this.db
      .prepare(`SELECT s.key_id, s.signature, s.blake2b512, s.signed_at FROM package_signatures s JOIN package_versions v ON v.id = s.version_id
        WHERE v.package_name = ? AND v.version = ? ORDER BY s.uploaded_at DESC, s.id DESC`)
      .all(version.name, version.version) as SignatureRow[];
  }

  private versionId(version: VersionIdentity): number {
    const row = this.db.prepare('SELECT id FROM package_versions WHERE package_name = ? AND version = ?').get(version.name, version.version) as { id: number } | undefined;
    if (!row) throw new DepotError('NOT_FOUND', `${version.name}@${version.version} is not published here.`);
    return row.id;
  }
}
