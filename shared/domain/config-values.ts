import { z } from 'zod';

/**
 * Values written the same way in `depot.yaml`, HTTP bodies, CLI flags and forms.
 * Durations: `500ms`, `10s`, `2m`, `1h` (a bare number means seconds) → milliseconds.
 * Sizes: `512MiB`, `100MB`, `64KiB` (a bare number means bytes) → bytes.
 * Secrets: never inline — `${ENV_NAME}` or `file:/path/to/0600-file` references only.
 */

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const sizeUnits: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Parses a duration; returns null when it is not one. */
export function parseDurationMs(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!match) return null;
  const unit = durationUnits[(match[2] ?? 's').toLowerCase()];
  return unit === undefined ? null : Math.round(Number(match[1]) * unit);
}

/** Parses a size; returns null when it is not one. */
export function parseSizeBytes(value: string | number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(value);
  if (!match) return null;
  const unit = sizeUnits[(match[2] ?? 'b').toLowerCase()];
  return unit === undefined ? null : Math.round(Number(match[1]) * unit);
}

/** A duration field: accepts `10s` or `10` (seconds), yields milliseconds. */
export const durationSchema = z.union([z.string(), z.number()]).transform((value, context) => {
  const ms = parseDurationMs(value);
  if (ms === null) {
    context.addIssue({ code: 'custom', message: `"${String(value)}" is not a duration (write 500ms, 10s, 2m or 1h)` });
    return z.NEVER;
  }
  return ms;
});

/** A size field: accepts `512MiB`, `100MB` or a number of bytes, yields bytes. */
export const sizeSchema = z.union([z.string(), z.number()]).transform((value, context) => {
  const bytes = parseSizeBytes(value);
  if (bytes === null) {
    context.addIssue({ code: 'custom', message: `"${String(value)}" is not a size (write 64KiB, 512MiB or 100MB)` });
    return z.NEVER;
  }
  return bytes;
});

/** Writes milliseconds back the way a person would (`90s` stays `90s`, `120000` becomes `2m`). */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Writes bytes back the way a person would (`65536` becomes `64KiB`, `100000000` becomes `100MB`). */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024], ['TB', 1000 ** 4], ['GB', 1000 ** 3], ['MB', 1000 ** 2], ['KB', 1000]] as const) {
    if (bytes > 0 && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}

/** A secret reference: `${ENV_NAME}` or `file:/absolute/or/relative/path`. Inline secrets are refused. */
export const secretReferenceSchema = z
  .string()
  .regex(/^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|file:.+)$/, 'a secret is written as ${ENV_NAME} or file:/path/to/0600-file, never inline');
export type SecretReference = z.infer<typeof secretReferenceSchema>;
