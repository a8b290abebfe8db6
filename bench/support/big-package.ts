import { randomFillSync } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { packPackage } from '../../electron/services/packages/format';
import { log } from './report';

export interface BigPackage {
  file: string;
  name: string;
  version: string;
  digest: string;
  size: number;
}

/**
 * A real .torshpkg holding one `sizeMiB` MiB weights file of random bytes (stored, as weights are),
 * built with our writer. Kept in the run's work folder so the benchmarks of one run share it.
 */
export async function ensureBigPackage(workDir: string, sizeMiB: number): Promise<BigPackage> {
  const dir = path.join(workDir, `package-${sizeMiB}MiB`);
  const infoFile = path.join(dir, 'package.json');
  if (existsSync(infoFile)) return JSON.parse(readFileSync(infoFile, 'utf8')) as BigPackage;
  mkdirSync(dir, { recursive: true });
  const source = path.join(dir, 'weights.pt');
  log(`writing ${sizeMiB} MiB of random weights`);
  const out = createWriteStream(source);
  const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (let written = 0; written < sizeMiB * 1024 * 1024; written += chunk.length) {
    randomFillSync(chunk);
    const slice = chunk.subarray(0, Math.min(chunk.length, sizeMiB * 1024 * 1024 - written));
    // Copy: the stream may still hold the previous buffer when we refill it.
    if (!out.write(Buffer.from(slice))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const name = 'bench-weights';
  const version = '1.0.0';
  const file = path.join(dir, `${name}-${version}.torshpkg`);
  log('packing it into a .torshpkg');
  const packed = await packPackage({ name, version, files: [{ sourcePath: source, entryPath: 'models/weights.pt' }], description: 'Benchmark model: random weights' }, file);
  rmSync(source);
  const info: BigPackage = { file, name, version, digest: `sha256:${packed.sha256}`, size: packed.size };
  writeFileSync(infoFile, JSON.stringify(info));
  return info;
}
