import { z } from 'zod';
import { versionEncryptionSchema } from './encryption';

/** Metadata a publisher may set over the manifest's own (HTTP header `X-Torsh-Metadata`, publish form). */
export const publishMetadataSchema = z
  .object({
    description: z.string().max(10_000).nullable().optional(),
    author: z.string().max(500).nullable().optional(),
    license: z.string().max(200).nullable().optional(),
    tags: z.array(z.string().min(1).max(50).regex(/^[\p{L}\p{N}][\p{L}\p{N}._+-]*$/u, 'tags are words: letters, digits, . _ + -')).max(50).optional(),
  })
  .strict();
export type PublishMetadata = z.infer<typeof publishMetadataSchema>;

export const packageResourceSchema = z.object({
  path: z.string(),
  name: z.string(),
  type: z.string(),
  size: z.number().int(),
  compressed_size: z.number().int(),
  compression: z.string(),
  sha256: z.string(),
});

/** A package in search results and lists: its newest non-yanked version. */
export const packageSummarySchema = z.object({
  name: z.string(),
  version: z.string(),
  description: z.string().nullable(),
  author: z.string().nullable(),
  license: z.string().nullable(),
  tags: z.array(z.string()),
  size: z.number().int(),
  digest: z.string(),
  published_at: z.string(),
  downloads: z.number().int(),
  /** Set on encrypted versions (the UI shows a lock); absent from registries that predate encryption. */
  encryption: versionEncryptionSchema.nullable().optional(),
});
export type PackageSummary = z.infer<typeof packageSummarySchema>;

/**
 * What the registry makes of one signature: `trusted` (its key is trusted there and it verifies), `invalid`
 * (its key is trusted but it does not verify: altered bytes or trusted comment), `untrusted` (a key the
 * registry does not trust, so it cannot vouch either way).
 */
export const signatureStates = ['trusted', 'untrusted', 'invalid'] as const;
export const signatureStateSchema = z.enum(signatureStates);
export type SignatureState = z.infer<typeof signatureStateSchema>;

/** A signature on a version: `trusted` when its key is in the registry's trust store and it verifies. */
export const signatureSummarySchema = z.object({
  key_id: z.string(),
  trusted: z.boolean(),
  signed_at: z.string().nullable(),
  /** Absent from registries that predate it: derive it from `trusted` (see `signatureStateOf`). */
  state: signatureStateSchema.optional(),
});
export type SignatureSummary = z.infer<typeof signatureSummarySchema>;

/** A version's badge: the best signature wins, but one invalid signature and no trusted one is `invalid`. */
export const versionSignatureStates = ['signed-trusted', 'signed-untrusted', 'invalid', 'unsigned'] as const;
export const versionSignatureStateSchema = z.enum(versionSignatureStates);
export type VersionSignatureState = z.infer<typeof versionSignatureStateSchema>;

export function signatureStateOf(signature: SignatureSummary): SignatureState {
  return signature.state ?? (signature.trusted ? 'trusted' : 'untrusted');
}

export function versionSignatureState(signatures: readonly SignatureSummary[]): VersionSignatureState {
  const states = signatures.map(signatureStateOf);
  if (states.includes('trusted')) return 'signed-trusted';
  if (states.includes('invalid')) return 'invalid';
  return states.length > 0 ? 'signed-untrusted' : 'unsigned';
}

/** One published version, as `GET /api/v1/packages/{name}/{version}` returns it. */
export const packageVersionMetadataSchema = packageSummarySchema.extend({
  yanked: z.boolean(),
  resources: z.array(packageResourceSchema),
  dependencies: z.record(z.string(), z.string()),
  /** Absent from registries that predate signing. */
  signatures: z.array(signatureSummarySchema).optional(),
});
export type PackageVersionMetadata = z.infer<typeof packageVersionMetadataSchema>;

export const packageVersionSummarySchema = z.object({
  version: z.string(),
  digest: z.string(),
  size: z.number().int(),
  published_at: z.string(),
  yanked: z.boolean(),
  /** Absent from registries that predate signing. */
  signature: versionSignatureStateSchema.optional(),
  encryption: versionEncryptionSchema.nullable().optional(),
});
export const packageVersionsListingSchema = z.object({
  name: z.string(),
  versions: z.array(packageVersionSummarySchema),
});
export type PackageVersionsListing = z.infer<typeof packageVersionsListingSchema>;

export const searchResultSchema = z.object({
  total: z.number().int(),
  /** true when there are more matches than `total` counts (totals are exact up to 10,000). */
  total_capped: z.boolean(),
  page: z.number().int(),
  per_page: z.number().int(),
  packages: z.array(packageSummarySchema),
});
export type SearchResult = z.infer<typeof searchResultSchema>;

export const publishResultSchema = z.object({
  name: z.string(),
  version: z.string(),
  digest: z.string(),
  size: z.number().int(),
  /** false when the same bytes were already published (idempotent re-publish). */
  created: z.boolean(),
  encryption: versionEncryptionSchema.nullable().optional(),
});
export type PublishResult = z.infer<typeof publishResultSchema>;

/** A row of the all-versions list (Packages screen), ordered by name then version. */
export const versionRowSchema = z.object({
  name: z.string(),
  version: z.string(),
  description: z.string().nullable(),
  size: z.number().int(),
  downloads: z.number().int(),
  yanked: z.boolean(),
  published_at: z.string(),
  encryption: versionEncryptionSchema.nullable().optional(),
});
export type VersionRow = z.infer<typeof versionRowSchema>;

/** What the publish form shows after a drop: the package as read and verified, before publishing. */
export const packageInspectionViewSchema = z.object({
  fileName: z.string(),
  fileSize: z.number().int(),
  name: z.string(),
  version: z.string(),
  formatVersion: z.string(),
  createdAt: z.string(),
  description: z.string().nullable(),
  author: z.string().nullable(),
  license: z.string().nullable(),
  tags: z.array(z.string()),
  resources: z.array(packageResourceSchema),
  dependencies: z.record(z.string(), z.string()),
  /** Set when this exact version is already published here (same bytes: re-publish is a no-op). */
  alreadyPublished: z.object({ digest: z.string(), sameBytes: z.boolean().nullable() }).nullable(),
});
export type PackageInspectionView = z.infer<typeof packageInspectionViewSchema>;

/** A package to publish: uploaded into the host's staging area (browser) or a local file (desktop). */
export const packageSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('staged'), id: z.string().regex(/^[0-9a-f]{32}$/) }),
  z.object({ kind: z.literal('path'), path: z.string().min(1).max(4096) }),
]);
export type PackageSource = z.infer<typeof packageSourceSchema>;

export const stagedPackageSchema = z.object({
  id: z.string(),
  fileName: z.string(),
  size: z.number().int(),
  digest: z.string(),
});
export type StagedPackage = z.infer<typeof stagedPackageSchema>;

/** A folder to pack and publish: a local folder (desktop drop) or files the browser uploaded into the host. */
export const folderSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('uploaded'), id: z.string().regex(/^[0-9a-f]{32}$/) }),
  z.object({ kind: z.literal('path'), path: z.string().min(1).max(4096) }),
]);
export type FolderSource = z.infer<typeof folderSourceSchema>;

/** What packing a folder would put in the package, before anything is written. */
export const folderInspectionSchema = z.object({
  folderName: z.string(),
  fileCount: z.number().int(),
  totalBytes: z.number().int(),
  /** The first entries in package order (the whole list can be very long). */
  files: z.array(z.object({ entryPath: z.string(), type: z.string(), size: z.number().int() })),
  truncated: z.boolean(),
  /** From a `MANIFEST.json` in the folder (a package extracted earlier), else from the folder's name. */
  suggestedName: z.string().nullable(),
  suggestedVersion: z.string().nullable(),
});
export type FolderInspection = z.infer<typeof folderInspectionSchema>;

/** The result of a `packages.prepareDownload` job: fetch it once from `/session/exports/{downloadId}`. */
export const preparedDownloadSchema = z.object({
  downloadId: z.string().regex(/^[0-9a-f]{32}$/),
  fileName: z.string(),
  size: z.number().int(),
});
export type PreparedDownload = z.infer<typeof preparedDownloadSchema>;
