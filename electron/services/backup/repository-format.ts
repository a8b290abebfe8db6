import { z } from 'zod';
import { Readable } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import type { StorageBackend } from '../storage/storage-backend';

/** The newest repository format this code reads and writes (docs/formats/backup-repository.md). */
export const repositoryFormatVersion = 1;

export const repositoryConfigSchema = z.object({
  format: z.literal('torsh-depot-backup'),
  version: z.number().int().min(1),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  created: z.string(),
  chunker: z.object({ algorithm: z.literal('fastcdc-2020'), minSize: z.number().int(), avgSize: z.number().int(), maxSize: z.number().int() }),
  compression: z.object({ codec: z.enum(['none', 'brotli', 'zstd']), level: z.number().int().min(0).max(22) }),
  packSize: z.number().int().min(1024 * 1024).max(512 * 1024 * 1024),
  /** Write-only repositories: chunk data is sealed to these age X25519 recipients. */
  recipients: z.array(z.string()).nullable(),
});
export type RepositoryConfig = z.infer<typeof repositoryConfigSchema>;

export const indexBlobSchema = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/), offset: z.number().int().min(0), length: z.number().int().min(28), rawLength: z.number().int().min(0), codec: z.number().int() });
export const indexPackSchema = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int(), headerLength: z.number().int(), blobs: z.array(indexBlobSchema) });
export const indexFileSchema = z.object({ version: z.literal(1), packs: z.array(indexPackSchema), supersedes: z.array(z.string()).default([]) });
export type IndexBlob = z.infer<typeof indexBlobSchema>;
export type IndexPack = z.infer<typeof indexPackSchema>;
export type IndexFile = z.infer<typeof indexFileSchema>;

export const snapshotFileSchema = z.object({
  path: z.string(),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  mtimeMs: z.number(),
  mode: z.number().int(),
  chunks: z.array(z.string().regex(/^[0-9a-f]{64}$/)),
  /**
   * ZIP entries' data ranges: their identity (name, CRC-32, sizes, method), the SHA-256 of their bytes
   * and which of `chunks` they are. The next backup reuses that chunk list for a range whose bytes hash
   * the same, without chunking it again. Absent in snapshots written before this was recorded.
   */
  segments: z.array(z.object({ key: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), length: z.number().int().min(0), first: z.number().int().min(0), count: z.number().int().min(0) })).optional(),
});
export type SnapshotFile = z.infer<typeof snapshotFileSchema>;

export const backupStrategies = ['full', 'incremental', 'differential'] as const;
export type BackupStrategy = (typeof backupStrategies)[number];

export const snapshotSchema = z.object({
  version: z.literal(1),
  time: z.string(),
  host: z.string(),
  strategy: z.enum(backupStrategies),
  /** The snapshot this one was compared with (file metadata reused): none for a full backup. */
  parent: z.string().nullable(),
  /** What was backed up: `files` (paths), `registry` (a whole data folder), `version` (name@version). */
  source: z.object({ kind: z.enum(['files', 'registry', 'version', 'set']), label: z.string() }),
  tags: z.array(z.string()),
  note: z.string().nullable(),
  files: z.array(snapshotFileSchema),
  stats: z.object({ files: z.number().int(), logicalBytes: z.number(), addedBytes: z.number(), addedChunks: z.number().int(), storedBytes: z.number(), durationMs: z.number() }),
});
export type SnapshotContent = z.infer<typeof snapshotSchema>;
export type Snapshot = SnapshotContent & { id: string };

export const lockSchema = z.object({ kind: z.enum(['shared', 'exclusive']), host: z.string(), pid: z.number().int(), created: z.string(), refreshed: z.string(), operation: z.string() });
export type LockRecord = z.infer<typeof lockSchema>;

export const objectKeys = {
  config: 'config',
  keys: 'keys/',
  data: 'data/',
  index: 'index/',
  snapshots: 'snapshots/',
  locks: 'locks/',
  packKey: (id: string): string => `data/${id.slice(0, 2)}/${id}`,
  packIdOf: (key: string): string => key.slice(key.lastIndexOf('/') + 1),
};

export function parseWith<T>(schema: z.ZodType<T>, bytes: Buffer, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new DepotError('DIGEST_MISMATCH', `${what} is not valid JSON (truncated or damaged).`, { reason: 'object-corrupt' });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new DepotError('VALIDATION_FAILED', `${what} has an unexpected shape (written by a newer version?): ${parsed.error.issues[0]?.message ?? ''}`, { reason: 'object-unknown-shape' });
  return parsed.data;
}

export async function readObject(storage: StorageBackend, key: string, range?: { start: number; end: number }): Promise<Buffer> {
  const stream = await storage.get(key, range ? { range } : {});
  const parts: Buffer[] = [];
  let total = 0;
  for await (const part of stream) {
    const bytes = Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array);
    parts.push(bytes);
    total += bytes.length;
  }
  // One piece is returned as is; several are joined once into a buffer of the known size.
  return parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, total);
}

export async function writeObject(storage: StorageBackend, key: string, bytes: Buffer): Promise<void> {
  await storage.put(key, Readable.from([bytes]), { contentType: 'application/octet-stream' });
}

export async function listKeys(storage: StorageBackend, prefix: string): Promise<Array<{ key: string; size: number }>> {
  const found: Array<{ key: string; size: number }> = [];
  let cursor: string | null = null;
  do {
    const page = await storage.list(prefix, cursor ? { cursor, limit: 1000 } : { limit: 1000 });
    for (const object of page.objects) found.push({ key: object.key, size: object.size });
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}
