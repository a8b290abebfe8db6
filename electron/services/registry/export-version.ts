import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DepotError } from '../../../shared/errors';
import { fsyncDirectory, tempPathFor } from '../fs/atomic-write';
import type { JobContext } from '../jobs/job-runner';
import type { RegistryService } from './registry-service';

/** Copies a published version into a folder: temp file, fsync, rename; never a half-written package. */
export async function exportVersion(registry: RegistryService, name: string, version: string, directory: string, context: JobContext): Promise<{ path: string; size: number }> {
  if (!path.isAbsolute(directory)) throw new DepotError('VALIDATION_FAILED', 'The target folder must be an absolute path.');
  const stats = await fsp.stat(directory).catch(() => null);
  if (!stats?.isDirectory()) throw new DepotError('NOT_FOUND', `No folder at ${directory}.`);
  const { metadata, stream } = await registry.openDownload(name, version);
  const target = path.join(directory, `${name.replace('/', '__')}-${version}.torshpkg`);
  const temp = tempPathFor(target);
  let copied = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      copied += chunk.length;
      context.reportProgress(copied / Math.max(metadata.size, 1), `Saving ${name}@${version}`);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(stream, meter, createWriteStream(temp, { flags: 'wx' }), { signal: context.signal });
    const handle = await fsp.open(temp, 'r+');
    await handle.sync().finally(() => handle.close());
    await fsp.rename(temp, target);
    await fsyncDirectory(directory);
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  }
  registry.recordDownload(name, version);
  return { path: target, size: copied };
}
