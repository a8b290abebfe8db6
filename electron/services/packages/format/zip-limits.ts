/** Bounds applied to the central directory before any entry data is read (zip-bomb defence). */
export interface PackageLimits {
  maxEntries: number;
  maxTotalUncompressedBytes: number;
  /** Uncompressed:compressed, checked per entry only above `ratioCheckThresholdBytes`. */
  maxCompressionRatio: number;
  maxManifestBytes: number;
  maxSidecarBytes: number;
}

export const defaultPackageLimits: PackageLimits = Object.freeze({
  maxEntries: 10_000,
  maxTotalUncompressedBytes: 64 * 1024 ** 3,
  maxCompressionRatio: 200,
  maxManifestBytes: 1024 * 1024,
  maxSidecarBytes: 64 * 1024,
});

/** Small entries compress absurdly well (a 1 KiB config of spaces) and are harmless, so they skip the ratio check. */
export const ratioCheckThresholdBytes = 1024 * 1024;

export function resolvePackageLimits(overrides: Partial<PackageLimits> | undefined): PackageLimits {
  const limits: PackageLimits = { ...defaultPackageLimits };
  if (overrides === undefined) return limits;
  for (const key of Object.keys(limits) as Array<keyof PackageLimits>) {
    const value = overrides[key];
    if (value !== undefined) {
      if (!(typeof value === 'number' && value > 0 && !Number.isNaN(value))) throw new RangeError(`Package limit ${key} must be a positive number.`);
      limits[key] = value;
    }
  }
  return limits;
}

/** True when an entry inflates more than the limit allows. */
export function exceedsCompressionRatio(uncompressedSize: number, compressedSize: number, maxRatio: number): boolean {
  if (uncompressedSize <= ratioCheckThresholdBytes) return false;
  if (compressedSize <= 0) return true;
  return uncompressedSize / compressedSize > maxRatio;
}
