// A BENCH_SIZE_MIB package (default 1 GiB) from three local nginx mirrors, one of them `limit_rate`d:
// `torsh-depot pull --mirrors` (whole process: signed index verified, segments from all three,
// SHA-256 checked, on disk, fsynced) against `aria2c -s3 -x3 --checksum=sha-256=…` with the same three
// URLs, rounds alternating, medians compared: ratio of times ≤ 1.0. Then a pull during which one
// mirror's nginx is killed at 30 %: extra time ≤ stall_timeout + 1 s and bytes fetched twice ≤ one
// segment. Peak RSS of the pull ≤ 150 MiB.
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultSegmentBytes } from '../electron/services/mirrors/download/multi-source-download';
import { encodeSignedMirrorIndex } from '../electron/services/mirrors/mirror-index';
import { mirrorBlobPath } from '../electron/services/mirrors/mirror-layout';
import { generateSigningKeyPair } from '../electron/services/signing/ed25519-keys';
import { encodePublicKey } from '../electron/services/signing/minisign-format';
import { mirrorIndexFormat } from '../shared/domain/mirrors';
import { startNginx, type RunningNginx } from '../test/support/nginx-server';
import { ensureBigPackage, type BigPackage } from './support/big-package';
import { drainOutput, ProcessGroup } from './support/processes';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';
import { projectRoot } from './support/servers';
import { median, timedCommand } from './support/timed-command';

const sizeMiB = envNumber('BENCH_SIZE_MIB', 1024);
const rounds = envNumber('BENCH_MIRRORS_ROUNDS', 3);
const limitRate = process.env.BENCH_MIRRORS_LIMIT_RATE ?? '40m';
const stallTimeoutMs = 2000;
const rssLimitMiB = 150;

interface PullOutcome {
  seconds: number;
  maxRssMiB: number;
  failovers: number;
  wastedBytes: number;
  mirrors: Array<{ id: string; bytes: number }>;
}

function writeMirrorFolder(root: string, pkg: BigPackage, sign: ReturnType<typeof generateSigningKeyPair>): void {
  const blob = mirrorBlobPath(pkg.name, pkg.version);
  mkdirSync(path.join(root, path.dirname(blob)), { recursive: true });
  linkSync(pkg.file, path.join(root, blob));
  const { bytes, signature } = encodeSignedMirrorIndex(
    {
      format: mirrorIndexFormat,
      serial: 1,
      generated_at: new Date().toISOString(),
      registry: null,
      key_id: null,
      versions: [{ name: pkg.name, version: pkg.version, size: pkg.size, sha256: pkg.digest.replace(/^sha256:/, ''), blake2b: null, yanked: false, signature: false, path: blob }],
    },
    sign,
  );
  writeFileSync(path.join(root, 'index.json'), bytes);
  writeFileSync(path.join(root, 'index.json.minisig'), signature);
  writeFileSync(path.join(root, 'registry.pub'), encodePublicKey(sign));
}

function writeMirrorsFile(file: string, servers: RunningNginx[], keyFile: string): void {
  writeFileSync(
    file,
    [
      'selection_strategy: priority',
      `trusted_keys: [ ${keyFile} ]`,
      `failover: { max_retries: 3, retry_delay: 500ms, stall_timeout: ${stallTimeoutMs}ms, min_rate: 64KiB }`,
      'list:',
      ...servers.map((server, index) => `  - { id: mirror-${index}, url: "${server.url}", priority: 1, weight: 100 }`),
      '',
    ].join('\n'),
  );
}

/** One `torsh-depot pull --mirrors --json` process; `onProgress` sees each progress event (the failover run kills a mirror from it). */
async function pull(group: ProcessGroup, pkg: BigPackage, mirrorsFile: string, dest: string, rssFile: string, onProgress?: (bytes: number) => void): Promise<PullOutcome> {
  rmSync(dest, { force: true });
  const started = performance.now();
  const child = group.start(process.execPath, [path.join(projectRoot, 'bin', 'torsh-depot.cjs'), 'pull', `${pkg.name}@${pkg.version}`, '--mirrors', mirrorsFile, '--json', '-o', dest], {
    env: { ...process.env, TORSH_DEPOT_REGISTRY: '', NODE_OPTIONS: `--import ${path.join(projectRoot, 'test', 'support', 'max-rss-preload.mjs')}`, TORSH_DEPOT_MAX_RSS_FILE: rssFile },
  });
  let pending = '';
  let done: { failovers: number; wastedBytes: number; mirrors: Array<{ id: string; bytes: number }>; digest: string } | null = null;
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const event = JSON.parse(pending.slice(0, newline)) as { type: string; bytes?: number; result?: typeof done };
      pending = pending.slice(newline + 1);
      if (event.type === 'progress' && event.bytes !== undefined) onProgress?.(event.bytes);
      if (event.type === 'done' && event.result) done = event.result;
      newline = pending.indexOf('\n');
    }
  });
  const tail = drainOutput(child);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  const seconds = (performance.now() - started) / 1000;
  await group.stop(child);
  const result = done as { failovers: number; wastedBytes: number; mirrors: Array<{ id: string; bytes: number }>; digest: string } | null;
  if (code !== 0 || result === null) throw new Error(`pull --mirrors exited with ${code}: ${tail()}`);
  if (result.digest !== pkg.digest) throw new Error(`pull --mirrors produced ${result.digest}, expected ${pkg.digest}`);
  return { seconds, maxRssMiB: Number(readFileSync(rssFile, 'utf8')) / 2 ** 20, failovers: result.failovers, wastedBytes: result.wastedBytes, mirrors: result.mirrors };
}

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'mirrors-'));
  const group = new ProcessGroup();
  const servers: RunningNginx[] = [];
  try {
    const pkg = await ensureBigPackage(base, sizeMiB);
    const key = generateSigningKeyPair();
    const keyFile = path.join(dir, 'registry.pub');
    writeFileSync(keyFile, encodePublicKey(key));
    const roots = [0, 1, 2].map((index) => path.join(dir, `mirror-${index}`));
    for (const root of roots) writeMirrorFolder(root, pkg, key);
    // mirror-2 is the throttled one.
    for (const [index, root] of roots.entries()) servers.push(await startNginx({ root, ...(index === 2 ? { limitRate } : {}) }));
    const mirrorsFile = path.join(dir, 'mirrors.yaml');
    writeMirrorsFile(mirrorsFile, servers, keyFile);
    const urls = servers.map((server) => `${server.url}/${mirrorBlobPath(pkg.name, pkg.version)}`);
    const dest = path.join(dir, 'pulled.torshpkg');
    const rssFile = path.join(dir, 'max-rss');
    const ariaDir = path.join(dir, 'aria');
    mkdirSync(ariaDir);
    const aria = async (): Promise<number> => {
      rmSync(path.join(ariaDir, 'aria.torshpkg'), { force: true });
      const hex = pkg.digest.replace(/^sha256:/, '');
      const { seconds } = await timedCommand(group, 'aria2c', ['-q', '-s3', '-x3', `--checksum=sha-256=${hex}`, '--allow-overwrite=true', '-d', ariaDir, '-o', 'aria.torshpkg', ...urls]);
      return seconds;
    };

    // One untimed pass each: page cache warm, nginx warm.
    await pull(group, pkg, mirrorsFile, dest, rssFile);
    await aria();
    const ours: PullOutcome[] = [];
    const peer: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      ours.push(await pull(group, pkg, mirrorsFile, dest, rssFile));
      peer.push(await aria());
      const last = ours.at(-1) as PullOutcome;
      log(`mirrors round ${round + 1}: pull --mirrors ${last.seconds.toFixed(2)} s (${last.mirrors.map((usage) => `${usage.id} ${(usage.bytes / 2 ** 20).toFixed(0)} MiB`).join(', ')}; RSS ${last.maxRssMiB.toFixed(0)} MiB), aria2c ${peer.at(-1)?.toFixed(2)} s`);
    }
    const oursSeconds = median(ours.map((outcome) => outcome.seconds));
    const peerSeconds = median(peer);

    // Failover: a fast mirror's nginx (master and worker) killed once 30 % is on disk.
    let killedAt: number | null = null;
    const victim = servers[0] as RunningNginx;
    const failed = await pull(group, pkg, mirrorsFile, dest, rssFile, (bytes) => {
      if (killedAt === null && bytes >= pkg.size * 0.3) {
        killedAt = bytes;
        void victim.kill();
      }
    });
    if (killedAt === null) throw new Error('the download finished before 30 % was reported: no mirror was killed');
    const extra = failed.seconds - oursSeconds;
    const segmentMiB = defaultSegmentBytes(pkg.size) / 2 ** 20;
    const refetchedMiB = failed.wastedBytes / 2 ** 20;
    const peakRss = Math.max(failed.maxRssMiB, ...ours.map((outcome) => outcome.maxRssMiB));
    log(`failover: ${failed.seconds.toFixed(2)} s (+${extra.toFixed(2)} s), ${failed.failovers} failovers, ${refetchedMiB.toFixed(2)} MiB fetched twice`);

    const size = `${(pkg.size / 2 ** 30).toFixed(2)} GiB`;
    const rows: BenchRow[] = [
      {
        benchmark: `pull --mirrors ${size} from 3 nginx mirrors (one limit_rate ${limitRate}): verified, on disk, fsynced`,
        ours: oursSeconds,
        unit: 's',
        peerLabel: 'aria2c -s3 -x3 --checksum=sha-256 (same 3 URLs)',
        peer: peerSeconds,
        ratio: ratioOf(oursSeconds, peerSeconds),
        target: 'ratio ≤ 1.0',
        pass: oursSeconds / peerSeconds <= 1.0,
        note: `medians of ${rounds}, whole processes; pull: ${ours.map((outcome) => outcome.seconds.toFixed(2)).join(' / ')} s, aria2c: ${peer.map((value) => value.toFixed(2)).join(' / ')} s`,
      },
      {
        benchmark: `pull --mirrors ${size}: a mirror's nginx killed at 30 %, extra time over an undisturbed pull`,
        ours: extra,
        unit: 's',
        peerLabel: '',
        peer: null,
        ratio: null,
        target: `≤ stall_timeout + 1 s = ${(stallTimeoutMs / 1000 + 1).toFixed(0)} s`,
        pass: extra <= stallTimeoutMs / 1000 + 1,
        note: `${failed.seconds.toFixed(2)} s vs ${oursSeconds.toFixed(2)} s; ${failed.failovers} failover(s)`,
      },
      {
        benchmark: `pull --mirrors ${size}: bytes fetched twice after the kill`,
        ours: refetchedMiB,
        unit: 'MiB',
        peerLabel: '',
        peer: null,
        ratio: null,
        target: `≤ one segment (${segmentMiB} MiB)`,
        pass: refetchedMiB <= segmentMiB,
      },
      {
        benchmark: `pull --mirrors ${size}: peak RSS of the whole process`,
        ours: peakRss,
        unit: 'MiB',
        peerLabel: '',
        peer: null,
        ratio: null,
        target: `≤ ${rssLimitMiB} MiB`,
        pass: peakRss <= rssLimitMiB,
      },
    ];
    writeRows(rows);
  } finally {
    await Promise.all(servers.map((server) => server.stop().catch(() => undefined)));
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
