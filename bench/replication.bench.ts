// Replication to three s3rver processes (three regions), same run as its peer, rclone:
// 1. one BENCH_REPLICATION_MIB version (default 1 GiB) published at quorum and copied to all three
//    nodes, against three parallel `rclone copyto` of the same file to the same servers (same part
//    size and concurrency): throughput ratio target ≥ 1.0 (quorum acknowledgement time reported);
// 2. BENCH_REPLICATION_VERSIONS small versions (default 1,000 × 64 KiB) queued and drained to the
//    three nodes, against three parallel `rclone copy` of the same files: versions/s ratio ≥ 1.0,
//    lag p95 reported, peak RSS (VmHWM) of the replicating process ≤ 200 MiB.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../electron/services/database/open-database';
import { migrations } from '../electron/services/database/migrations';
import { silentLogger } from '../electron/services/logger';
import { ReplicationService } from '../electron/services/replication/replication-service';
import { replicationSectionSchema } from '../shared/domain/replication';
import { ProcessGroup, drainOutput, waitForOutput } from './support/processes';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';
import { projectRoot } from './support/servers';

const MiB = 1024 * 1024;
const bigMiB = envNumber('BENCH_REPLICATION_MIB', 1024);
const smallCount = envNumber('BENCH_REPLICATION_VERSIONS', 1000);
const smallBytes = 64 * 1024;
const bucket = 'bench-replica';
const regions = ['us-east-1', 'europe-west4', 'asia-east1'];

function rclone(configFile: string, args: string[]): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, RCLONE_CONFIG: configFile };
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn('rclone', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`rclone ${args.join(' ')} failed: ${stderr}`))));
  });
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function candidate(name: string, digestHex: string, size: number) {
  return { name, version: '1.0.0', digest: `sha256:${digestHex}`, size, description: null, author: null, license: null, tags: [], dependencies: {}, publishedAt: new Date().toISOString(), publishedBy: 'bench' };
}

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'replication-'));
  const group = new ProcessGroup();
  let service: ReplicationService | null = null;
  let db: ReturnType<typeof openDatabase> | null = null;
  try {
    const endpoints: string[] = [];
    for (const [index] of regions.entries()) {
      const s3rver = group.start(process.execPath, [path.join(projectRoot, 'node_modules', 's3rver', 'bin', 's3rver.js'), '-d', path.join(dir, `s3rver-${index}`), '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', bucket], {
        env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
      });
      endpoints.push(`http://127.0.0.1:${(await waitForOutput(s3rver, /listening on 127\.0\.0\.1:(\d+)/))[1]}`);
      drainOutput(s3rver);
    }
    const configFile = path.join(dir, 'rclone.conf');
    writeFileSync(
      configFile,
      endpoints.map((endpoint, index) => `[r${index}]\ntype = s3\nprovider = Other\naccess_key_id = S3RVER\nsecret_access_key = S3RVER\nendpoint = ${endpoint}\nregion = us-east-1\nforce_path_style = true\n`).join('\n'),
    );
    process.env.BENCH_REPLICA_KEY = 'S3RVER';
    const section = replicationSectionSchema.parse({
      replication_factor: 3,
      consistency: 'quorum',
      ack_timeout: '1h',
      nodes: endpoints.map((endpoint, index) => ({
        id: `n${index}`,
        region: regions[index],
        endpoint: `s3://${bucket}/ours?endpoint=${endpoint}&path_style=true&part_size_mib=16&concurrency=4`,
        max_transfers: 8,
        credentials: { access_key_id: '${BENCH_REPLICA_KEY}', secret_access_key: '${BENCH_REPLICA_KEY}' },
      })),
    });
    const files = new Map<string, string>();
    db = openDatabase(path.join(dir, 'bench.sqlite'), migrations);
    service = new ReplicationService({ db, section, source: { open: (hex) => Promise.resolve(createReadStream(files.get(hex) ?? '')) }, logger: silentLogger, registryId: 'bench' });
    await service.start();
    const replication = service;
    const drained = async (): Promise<void> => {
      while ((await replication.queueDepth()) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    const rows: BenchRow[] = [];

    // 2 first, so the peak RSS is the small versions' own (the big copy streams, it does not buffer).
    log(`writing ${smallCount} versions of ${smallBytes / 1024} KiB`);
    const smallDir = path.join(dir, 'small');
    mkdirSync(smallDir);
    const small: Array<{ hex: string; file: string }> = [];
    for (let index = 0; index < smallCount; index += 1) {
      const bytes = randomBytes(smallBytes);
      const file = path.join(smallDir, `v${index}.bin`);
      writeFileSync(file, bytes);
      const hex = sha256Hex(bytes);
      files.set(hex, file);
      small.push({ hex, file });
    }
    const oursSmall = await timed(async () => {
      for (const [index, version] of small.entries()) await replication.beforeVisible(candidate(`small-${index}`, version.hex, smallBytes), { consistency: 'eventual' });
      await drained();
    });
    const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
    const status = await replication.status();
    const lagP95 = Math.max(...status.nodes.map((node) => node.lagP95Ms ?? 0));
    const rcloneSmall = await timed(() => Promise.all(endpoints.map((_, index) => rclone(configFile, ['copy', '--transfers', '4', smallDir, `r${index}:${bucket}/rclone-small`]))));
    const smallRate = smallCount / oursSmall;
    const rcloneSmallRate = smallCount / rcloneSmall;
    const smallRatio = ratioOf(smallRate, rcloneSmallRate);
    rows.push({ benchmark: `replication: ${smallCount} versions × 64 KiB to 3 s3rver regions (eventual, drained)`, ours: smallRate, unit: 'versions/s', peerLabel: '3 parallel rclone copy --transfers 4', peer: rcloneSmallRate, ratio: smallRatio, target: 'ratio ≥ 1.0', pass: smallRatio === null ? null : smallRatio >= 1 });
    rows.push({ benchmark: `replication: lag p95 (commit → confirm), ${smallCount} versions`, ours: lagP95, unit: 'ms', peerLabel: '', peer: null, ratio: null, target: 'reported', pass: null });
    rows.push({ benchmark: `replication: peak RSS (VmHWM) replicating ${smallCount} versions`, ours: peakKiB / 1024, unit: 'MiB', peerLabel: '', peer: null, ratio: null, target: '≤ 200 MiB', pass: peakKiB / 1024 <= 200 });

    log(`writing ${bigMiB} MiB of random bytes`);
    const big = path.join(dir, 'big.bin');
    const fd = openSync(big, 'w');
    const hash = createHash('sha256');
    for (let written = 0; written < bigMiB; written += 8) {
      const chunk = randomBytes(Math.min(8, bigMiB - written) * MiB);
      hash.update(chunk);
      writeSync(fd, chunk);
    }
    closeSync(fd);
    const bigHex = hash.digest('hex');
    files.set(bigHex, big);
    let quorumSeconds = 0;
    const oursBig = await timed(async () => {
      quorumSeconds = await timed(() => replication.beforeVisible(candidate('big', bigHex, bigMiB * MiB), { consistency: 'quorum' }));
      await drained();
    });
    const rcloneBig = await timed(() =>
      Promise.all(endpoints.map((_, index) => rclone(configFile, ['copyto', '--s3-chunk-size', '16M', '--s3-upload-concurrency', '4', '--s3-upload-cutoff', '16M', big, `r${index}:${bucket}/rclone/big.bin`]))),
    );
    const bigRatio = ratioOf((3 * bigMiB) / oursBig, (3 * bigMiB) / rcloneBig);
    rows.push({
      benchmark: `replication: one ${bigMiB} MiB version to 3 s3rver regions at quorum (all three copies)`,
      ours: (3 * bigMiB) / oursBig,
      unit: 'MiB/s',
      peerLabel: '3 parallel rclone copyto, same servers',
      peer: (3 * bigMiB) / rcloneBig,
      ratio: bigRatio,
      target: 'ratio ≥ 1.0',
      pass: bigRatio === null ? null : bigRatio >= 1,
      note: `quorum acknowledged after ${quorumSeconds.toFixed(2)} s`,
    });
    writeRows(rows, `seconds — small: ours ${oursSmall.toFixed(2)}, rclone ${rcloneSmall.toFixed(2)}; big: ours ${oursBig.toFixed(2)} (quorum ${quorumSeconds.toFixed(2)}), rclone ${rcloneBig.toFixed(2)}`);
  } finally {
    await service?.stop();
    db?.close();
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
