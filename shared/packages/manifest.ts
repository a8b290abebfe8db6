import { z } from 'zod';

/** Resource types as the reference crate spells them in `resource_type`. */
export const resourceTypes = ['Model', 'Source', 'Data', 'Config', 'Documentation', 'License', 'Binary', 'Text', 'Metadata'] as const;
export type ResourceType = (typeof resourceTypes)[number];

export function isResourceType(value: string): value is ResourceType {
  return (resourceTypes as readonly string[]).includes(value);
}

/** The format version our writer stamps; readers accept any 1.x.y. */
export const packageFormatVersion = '1.0.0';
export const supportedFormatMajor = 1;

export const maxPackageNameLength = 214;
export const maxVersionLength = 256;

// semver.org's reference pattern; kept here because shared/ cannot import the Node `semver` package.
const strictSemverPattern =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Strict semver `MAJOR.MINOR.PATCH[-pre][+build]`: no `v` prefix, no leading zeros, no spaces. */
export function isStrictSemver(version: string): boolean {
  return version.length <= maxVersionLength && strictSemverPattern.test(version);
}

/** The major number of a strict semver string, or null when it is not one. */
export function semverMajor(version: string): number | null {
  if (!isStrictSemver(version)) return null;
  return Number(version.slice(0, version.indexOf('.')));
}

export function isSupportedFormatVersion(version: string): boolean {
  return semverMajor(version) === supportedFormatMajor;
}

// Each segment starts with a letter or digit, so `.`, `..` and hidden names can never be package names.
const packageNameSegment = '[a-z0-9][a-z0-9._-]*';
const packageNamePattern = new RegExp(`^(?:${packageNameSegment}/)?${packageNameSegment}$`);

/** Lowercase letters, digits, `-`, `_`, `.`, and at most one `scope/` prefix. */
export function isValidPackageName(name: string): boolean {
  return name.length <= maxPackageNameLength && packageNamePattern.test(name);
}

// RFC 3339 date-time (chrono writes nanoseconds, JavaScript writes milliseconds: any fraction is fine).
const rfc3339Pattern = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

export function isRfc3339(value: string): boolean {
  return rfc3339Pattern.test(value) && !Number.isNaN(Date.parse(value));
}

const stringMap = z.record(z.string(), z.string());

export const manifestModuleSchema = z.object({
  name: z.string().min(1),
  class_name: z.string(),
  version: z.string(),
  dependencies: z.array(z.string()).default([]),
  has_source: z.boolean(),
});
export type ManifestModule = z.infer<typeof manifestModuleSchema>;

export const manifestResourceSchema = z.object({
  /** Path below the type folder, sub-paths kept (`encoder/weights.pt`). */
  name: z.string().min(1),
  resource_type: z.enum(resourceTypes),
  size: z.number().int().min(0),
  /** Hex SHA-256; empty means "not recorded". */
  sha256: z.string(),
  compression: z.string().nullable().default(null),
});
export type ManifestResource = z.infer<typeof manifestResourceSchema>;

export const manifestSignatureSchema = z.object({
  algorithm: z.string(),
  key_id: z.string(),
  signature: z.string(),
  signed_at: z.string(),
});
export type ManifestSignature = z.infer<typeof manifestSignatureSchema>;

/**
 * MANIFEST.json. Lenient where the reference is (missing optional keys get defaults),
 * strict where a registry must be (name, version, format major, dependency names).
 * Dependency *ranges* are checked on the Node side with `semver.validRange`.
 */
export const manifestSchema = z.object({
  name: z.string().refine(isValidPackageName, 'use lowercase letters, digits, "-", "_", "." and at most one "scope/" prefix'),
  version: z.string().refine(isStrictSemver, 'expected strict semver MAJOR.MINOR.PATCH[-pre][+build]'),
  format_version: z.string().refine(isSupportedFormatVersion, `expected format version ${supportedFormatMajor}.x.y`),
  created_at: z.string().refine(isRfc3339, 'expected an RFC 3339 timestamp'),
  author: z.string().nullable().default(null),
  description: z.string().nullable().default(null),
  license: z.string().nullable().default(null),
  modules: z.array(manifestModuleSchema).default([]),
  resources: z.array(manifestResourceSchema).default([]),
  dependencies: z
    .record(z.string().refine(isValidPackageName, 'dependency names follow the package name rule'), z.string().min(1).max(1000))
    .default({}),
  metadata: stringMap.default({}),
  signature: manifestSignatureSchema.nullable().default(null),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** Top-level manifest keys whose defects get their own error reason. */
export type ManifestField = keyof Manifest;
