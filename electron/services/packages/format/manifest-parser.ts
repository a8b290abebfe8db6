import semver from 'semver';
import { type z } from 'zod';
import { type Manifest, type ManifestField, manifestSchema, semverMajor, supportedFormatMajor } from '../../../../shared/packages/manifest';
import { invalidPackage } from './package-errors';

/** Top-level keys whose defects get their own reason; anything else is `bad-manifest`. */
const fieldReasons: Partial<Record<ManifestField, string>> = {
  name: 'bad-name',
  version: 'bad-semver',
  format_version: 'bad-format-version',
  created_at: 'bad-created-at',
  dependencies: 'bad-dependency',
};

/**
 * Cargo-style requirements separate comparators with commas (`>=1.0, <2.0`); node-semver
 * wants spaces. Use this before handing a manifest requirement to `semver.satisfies`.
 */
export function normalizeVersionRange(range: string): string {
  return range.replace(/\s*,\s*/g, ' ').trim();
}

/** True for any semver range: `^`, `~`, `*`, `x`, comma- or space-separated comparators, `||`. */
export function isValidVersionRange(range: string): boolean {
  const normalized = normalizeVersionRange(range);
  return normalized.length > 0 && semver.validRange(normalized) !== null;
}

/** Parses MANIFEST.json bytes into a validated manifest, or throws INVALID_PACKAGE with a precise reason. */
export function parseManifest(bytes: Uint8Array): Manifest {
  let raw: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    raw = JSON.parse(text);
  } catch (error) {
    throw invalidPackage('manifest-not-json', 'MANIFEST.json is not valid UTF-8 JSON.', error);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidPackage('bad-manifest', 'MANIFEST.json must hold a JSON object.');
  }

  // Checked before the schema: a future major may change every other key.
  const formatVersion = (raw as { format_version?: unknown }).format_version;
  if (typeof formatVersion === 'string') {
    const major = semverMajor(formatVersion);
    if (major !== null && major !== supportedFormatMajor) {
      throw invalidPackage('unsupported-format-version', `Package format ${formatVersion.slice(0, 40)} is not supported (this reader understands ${supportedFormatMajor}.x.y).`);
    }
  }

  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw manifestIssueError(parsed.error.issues);
  const manifest = parsed.data;

  for (const [dependency, range] of Object.entries(manifest.dependencies)) {
    if (!isValidVersionRange(range)) {
      throw invalidPackage('bad-dependency', `Dependency "${dependency}" has an invalid version requirement "${range.slice(0, 100)}".`);
    }
  }
  return manifest;
}

function manifestIssueError(issues: readonly z.core.$ZodIssue[]): Error {
  const issue = issues[0];
  const field = issue?.path[0];
  const reason = (typeof field === 'string' ? fieldReasons[field as ManifestField] : undefined) ?? 'bad-manifest';
  const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'manifest';
  return invalidPackage(reason, `MANIFEST.json: ${where}: ${issue?.message ?? 'invalid'}`);
}
