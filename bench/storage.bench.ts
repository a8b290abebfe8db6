// S3Storage against rclone on the same s3rver, same run: a BENCH_STORAGE_MIB file (default 1 GiB)
// uploaded (multipart, same part size and concurrency for both) and downloaded to disk (ours: parallel
// ranged GETs with the same part size and concurrency; rclone: its multi-thread download); throughput
// ratio target ≥ 1.0. Then the peak RSS (VmHWM) of a fresh process uploading a BENCH_STORAGE_RSS_MIB
// file (default 4 GiB, sparse) with S3Storage.putFile: target ≤ part size × concurrency + 100 MiB.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { S3Storage } from '../electron/services/storage/s3-storage';
import { ProcessGroup, drainOutput, waitForOutput } from './support/processes';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';
import { projectRoot } from './support/servers';

const MiB = 1024 * 1024;
const sizeMiB = envNumber('BENCH_STORAGE_MIB', 1024);
const rssSizeMiB = envNumber('BENCH_STORAGE_RSS_MIB', 4096);
const rounds = envNumber('BENCH_STORAGE_ROUNDS', 2);
const partSizeMiB = 16;
const concurrency = 4;
const bucket = 'bench-storage';

function storage(endpoint: string): S3Storage {
  return new S3Storage({
    bucket,
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    partSizeBytes: partSizeMiB * MiB,
    concurrency,
    streamedChecksums: false,
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function timed(work: () => Promise<void> | void): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function rclone(configFile: string, args: string[]): void {
  const env: NodeJS.ProcessEnv = { ...process.env, RCLONE_CONFIG: configFile };
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name];
  const result = spawnSync('rclone', args, { env, encoding: 'utf8', maxBuffer: 16 * MiB });
  if (result.status !== 0) throw new Error(`rclone ${args.join(' ')} failed: ${result.stderr}`);
}

/** Child mode: upload one file and print this process's peak RSS. */
async function rssChild(endpoint: string, file: string): Promise<void> {
  await storage(endpoint).putFile('rss/object', file);
  const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  process.stdout.write(`peak-rss-kib ${peakKiB}\n`);
}

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'storage-'));
  const group = new ProcessGroup();
  try {
    const s3Dir = path.join(dir, 's3rver');
    const s3rver = group.start(process.execPath, [path.join(projectRoot, 'node_modules', 's3rver', 'bin', 's3rver.js'), '-d', s3Dir, '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', bucket], {
      env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    });
    const endpoint = `http://127.0.0.1:${(await waitForOutput(s3rver, /listening on 127\.0\.0\.1:(\d+)/))[1]}`;
    drainOutput(s3rver);
    const configFile = path.join(dir, 'rclone.conf');
    writeFileSync(configFile, `[bench]\ntype = s3\nprovider = Other\naccess_key_id = S3RVER\nsecret_access_key = S3RVER\nendpoint = ${endpoint}\nregion = us-east-1\nforce_path_style = true\n`);
    const rcloneTuning = ['--s3-chunk-size', `${partSizeMiB}M`, '--s3-upload-concurrency', String(concurrency), '--s3-upload-cutoff', `${partSizeMiB}M`];

    log(`writing ${sizeMiB} MiB of random bytes`);
    const file = path.join(dir, 'payload.bin');
    const fd = openSync(file, 'w');
    for (let written = 0; written < sizeMiB; written += 8) writeSync(fd, randomBytes(Math.min(8, sizeMiB - written) * MiB));
    closeSync(fd);
    const s3 = storage(endpoint);
    const seconds = { ourUp: [] as number[], rcloneUp: [] as number[], ourDown: [] as number[], rcloneDown: [] as number[] };
    for (let round = 0; round < rounds; round += 1) {
      // Alternate who goes first so neither always gets the warmer cache.
      const order = round % 2 === 0 ? ['ours', 'rclone'] : ['rclone', 'ours'];
      for (const who of order) {
        const target = path.join(dir, `down-${who}.bin`);
        if (who === 'ours') {
          seconds.ourUp.push(await timed(() => s3.putFile(`ours/round-${round}`, file).then(() => undefined)));
          seconds.ourDown.push(await timed(() => s3.downloadToFile(`ours/round-${round}`, target).then(() => undefined)));
        } else {
          seconds.rcloneUp.push(await timed(() => rclone(configFile, ['copyto', ...rcloneTuning, file, `bench:${bucket}/rclone/round-${round}`])));
          seconds.rcloneDown.push(await timed(() => rclone(configFile, ['copyto', `bench:${bucket}/rclone/round-${round}`, target])));
        }
        rmSync(target, { force: true });
        log(`round ${round + 1} ${who} done`);
      }
      await s3.delete(`ours/round-${round}`);
      await s3.delete(`rclone/round-${round}`);
    }
    rmSync(file, { force: true });
    const rate = (values: number[]): number => sizeMiB / median(values);
    const rows: BenchRow[] = [];
    const label = `${sizeMiB >= 1024 ? `${(sizeMiB / 1024).toFixed(2)} GiB` : `${sizeMiB} MiB`}, parts ${partSizeMiB} MiB × ${concurrency}`;
    for (const [what, ours, peer] of [
      ['upload', rate(seconds.ourUp), rate(seconds.rcloneUp)],
      ['download to disk', rate(seconds.ourDown), rate(seconds.rcloneDown)],
    ] as const) {
      const ratio = ratioOf(ours, peer);
      rows.push({ benchmark: `storage ${what} ${label}: S3Storage → s3rver`, ours, unit: 'MiB/s', peerLabel: 'rclone copyto, same s3rver', peer, ratio, target: 'ratio ≥ 1.0', pass: ratio === null ? null : ratio >= 1 });
    }

    log(`peak RSS during a ${rssSizeMiB} MiB upload`);
    const sparse = path.join(dir, 'sparse.bin');
    const sparseFd = openSync(sparse, 'w');
    ftruncateSync(sparseFd, rssSizeMiB * MiB);
    closeSync(sparseFd);
    const child = group.start(process.execPath, [__filename, '--rss-child', endpoint, sparse]);
    const peakKiB = Number((await waitForOutput(child, /peak-rss-kib (\d+)/, 1_800_000))[1]);
    await group.stop(child);
    rmSync(sparse, { force: true });
    const peakMiB = peakKiB / 1024;
    const budget = partSizeMiB * concurrency + 100;
    rows.push({
      benchmark: `storage upload ${(rssSizeMiB / 1024).toFixed(2)} GiB (sparse file, putFile): peak RSS (VmHWM) of the uploading process`,
      ours: peakMiB,
      unit: 'MiB',
      peerLabel: '',
      peer: null,
      ratio: null,
      target: `≤ ${budget} MiB (part ${partSizeMiB} MiB × ${concurrency} + 100 MiB)`,
      pass: peakMiB <= budget,
    });
    const details = [
      `s3rver ${endpoint}; rclone ${(spawnSync('rclone', ['version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '').trim()} with ${rcloneTuning.join(' ')}`,
      `seconds per round — ours up ${seconds.ourUp.map((value) => value.toFixed(2)).join(', ')}; rclone up ${seconds.rcloneUp.map((value) => value.toFixed(2)).join(', ')}; ` +
        `ours down ${seconds.ourDown.map((value) => value.toFixed(2)).join(', ')}; rclone down ${seconds.rcloneDown.map((value) => value.toFixed(2)).join(', ')}`,
    ].join('\n\n');
    writeRows(rows, details);
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--rss-child') {
  rssChild(process.argv[3] as string, process.argv[4] as string).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
