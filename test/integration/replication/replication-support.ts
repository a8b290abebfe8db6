import { afterAll, afterEach, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { receiveUpload } from '../../../electron/services/registry/upload-receiver';
import type { ReplicationSectionInput } from '../../../shared/domain/replication';
import { replicaKeys, replicaMetaRecordSchema, type ReplicaMetaRecord } from '../../../shared/domain/replication';
import type { ConsistencyLevel } from '../../../shared/domain/replication';
import type { PublishResult } from '../../../shared/domain/registry';
import { S3Storage } from '../../../electron/services/storage/s3-storage';
import { startS3rver, s3rverCredentials, type RunningServer } from '../../support/object-servers';
import { makeTempDir } from '../../support/temp-dir';

export const bucket = 'replica';
/** The nodes' keys reach them as `${ENV}` references, as in depot.yaml. */
export const keyVariable = 'TORSH_REPLICATION_TEST_KEY';
process.env[keyVariable] = s3rverCredentials.accessKeyId;

export const regions = ['us-east-1', 'europe-west4', 'asia-east1'] as const;
export const nodeIds = ['us', 'eu', 'ap'] as const;

export interface Region {
  id: string;
  server: RunningServer;
}

export async function startRegions(): Promise<Region[]> {
  const servers = await Promise.all(nodeIds.map(() => startS3rver([bucket])));
  return servers.map((server, index) => ({ id: nodeIds[index] ?? '', server }));
}

/** kill -9 by PID, then back on the same port with the same objects. */
export async function killRegion(region: Region): Promise<void> {
  const exited = new Promise<void>((resolve) => region.server.child.once('exit', () => resolve()));
  process.kill(region.server.child.pid ?? 0, 'SIGKILL');
  await exited;
}

export async function restartRegion(region: Region): Promise<void> {
  region.server = await startS3rver([bucket], { port: region.server.port, dataDir: region.server.dataDir });
}

export function nodeEndpoint(region: Region): string {
  return `s3://${bucket}/depot?endpoint=${region.server.endpoint}&path_style=true`;
}

export function sectionFor(regionsUp: readonly Region[], overrides: Partial<ReplicationSectionInput> = {}): ReplicationSectionInput {
  return {
    replication_factor: 3,
    consistency: 'quorum',
    // Generous: the machines running the tests are shared and slow; a down node fails only at the deadline.
    ack_timeout: '8s',
    hints: { base_backoff: '200ms', max_backoff: '1s' },
    nodes: regionsUp.map((region, index) => ({
      id: region.id,
      region: regions[index] ?? 'us-east-1',
      endpoint: nodeEndpoint(region),
      credentials: { access_key_id: `\${${keyVariable}}`, secret_access_key: `\${${keyVariable}}` },
    })),
    ...overrides,
  };
}

/** A client of its own (not the product's node) to look at what a region holds. */
export function regionStorage(region: Region): S3Storage {
  return new S3Storage({
    kind: 's3',
    bucket,
    prefix: 'depot',
    region: 'us-east-1',
    endpoint: region.server.endpoint,
    forcePathStyle: true,
    credentials: s3rverCredentials,
    partSizeBytes: 8 * 1024 * 1024,
    concurrency: 2,
    streamedChecksums: false,
  });
}

export async function readRecord(region: Region, name: string, version: string): Promise<ReplicaMetaRecord | null> {
  const storage = regionStorage(region);
  const key = replicaKeys.meta(name, version);
  if (!(await storage.head(key))) return null;
  return replicaMetaRecordSchema.parse(JSON.parse((await text(await storage.get(key))).toString()) as unknown);
}

export async function text(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function newReplicatingCore(cleanups: Array<() => unknown>, replication: ReplicationSectionInput, dataDir?: string): { core: Core; dataDir: string } {
  let dir = dataDir;
  if (dir === undefined) {
    const data = makeTempDir('torsh-replication-');
    cleanups.push(data.cleanup);
    dir = data.dir;
  }
  const core = createCore({ dataDir: dir, shell: 'headless', logger: silentLogger, replication, metrics: { flushIntervalMs: 0, evaluationIntervalMs: 0, retentionIntervalMs: 0 } });
  cleanups.push(() => core.close());
  return { core, dataDir: dir };
}

export async function publishFile(core: Core, file: string, consistency?: ConsistencyLevel): Promise<PublishResult> {
  const upload = await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1024 ** 3 });
  return core.registry.publishUpload(upload, { publisher: 'test', ...(consistency ? { consistency } : {}) });
}

/**
 * Three regions and a scratch folder for a test file (started once, stopped after its last test),
 * and cleanups run after each test, last in first out.
 */
export function useRegions(scratchPrefix: string): { three: Region[]; scratch: string; cleanups: Array<() => unknown> } {
  const world = { three: [] as Region[], scratch: '', cleanups: [] as Array<() => unknown> };
  let folder: { dir: string; cleanup: () => void } | null = null;
  beforeAll(async () => {
    folder = makeTempDir(scratchPrefix);
    world.scratch = folder.dir;
    world.three.push(...(await startRegions()));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(world.three.map((region) => region.server.stop()));
    folder?.cleanup();
  });
  afterEach(async () => {
    for (const cleanup of world.cleanups.splice(0).reverse()) await cleanup();
  });
  return world;
}

/** True when a region holds the version's record and bytes that hash to its digest. */
export async function holdsCopy(region: Region, name: string, version: string, digest: string): Promise<boolean> {
  const record = await readRecord(region, name, version);
  if (!record || record.digest !== digest) return false;
  const bytes = await text(await regionStorage(region).get(replicaKeys.blob(digest.slice('sha256:'.length))));
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` === digest;
}
