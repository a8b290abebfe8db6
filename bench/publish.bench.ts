// Publish of a BENCH_SIZE_MIB package (default 1 GiB) to `torsh-depot serve`, streamed by `curl -T`:
// the host's peak RSS (VmHWM) must stay ≤ 200 MiB. The same file PUT to nginx (WebDAV) is the
// throughput peer; the host's own RSS before the publish is the memory peer.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBigPackage } from './support/big-package';
import { curl } from './support/curl';
import { ProcessGroup, procStatusKiB } from './support/processes';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';
import { startNginx, startServe } from './support/servers';

const sizeMiB = envNumber('BENCH_SIZE_MIB', 1024);
const rssLimitMiB = 200;
const adminKey = 'bench-admin-key-0123456789abcdef';

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'publish-'));
  const group = new ProcessGroup();
  try {
    const pkg = await ensureBigPackage(base, sizeMiB);
    const nginx = await startNginx(group, path.join(dir, 'nginx'));
    const dataDir = path.join(dir, 'data');
    mkdirSync(dataDir);
    const serve = await startServe(group, dataDir, { TORSH_DEPOT_ADMIN_KEY: adminKey });
    await curl(group, ['-o', '/dev/null', `${serve.origin}/api/v1/health`]);
    const idleRssMiB = procStatusKiB(serve.pid, 'VmRSS') / 1024;
    log(`publish: host idle RSS ${idleRssMiB.toFixed(1)} MiB`);

    const put = ['-H', 'Expect:', '-H', 'Content-Type: application/octet-stream', '-T', pkg.file];
    const peer = await curl(group, [...put, '-o', '/dev/null', `${nginx.origin}/upload/${path.basename(pkg.file)}`]);
    if (peer.httpCode !== 201 && peer.httpCode !== 204) throw new Error(`nginx PUT answered ${peer.httpCode}`);
    rmSync(path.join(nginx.www, 'upload', path.basename(pkg.file)), { force: true });
    log(`publish: nginx PUT ${(pkg.size / 2 ** 20 / peer.seconds).toFixed(0)} MiB/s`);

    const ours = await curl(group, [...put, '-H', `Authorization: Bearer ${adminKey}`, '-o', path.join(dir, 'publish-answer.json'), `${serve.origin}/api/v1/packages/${pkg.name}/${pkg.version}`]);
    if (ours.httpCode !== 201) throw new Error(`publish answered ${ours.httpCode}`);
    const peakMiB = procStatusKiB(serve.pid, 'VmHWM') / 1024;
    log(`publish: ${(pkg.size / 2 ** 20 / ours.seconds).toFixed(0)} MiB/s, host peak RSS ${peakMiB.toFixed(1)} MiB`);
    await serve.stop();
    await nginx.stop();

    const size = `${(pkg.size / 2 ** 30).toFixed(2)} GiB`;
    const rows: BenchRow[] = [
      {
        benchmark: `publish ${size} (curl -T): host peak RSS (VmHWM)`,
        ours: peakMiB,
        unit: 'MiB',
        peerLabel: 'host RSS before the publish',
        peer: idleRssMiB,
        ratio: ratioOf(peakMiB, idleRssMiB),
        target: `≤ ${rssLimitMiB} MiB`,
        pass: peakMiB <= rssLimitMiB,
      },
      {
        benchmark: `publish ${size}: throughput (received, verified, stored)`,
        ours: pkg.size / 2 ** 20 / ours.seconds,
        unit: 'MiB/s',
        peerLabel: 'nginx WebDAV PUT, curl -T',
        peer: pkg.size / 2 ** 20 / peer.seconds,
        ratio: ratioOf(peer.seconds, ours.seconds),
        target: 'info',
        pass: null,
        note: `publish ${ours.seconds.toFixed(2)} s (the answer comes after the whole package is hashed and checked), nginx PUT ${peer.seconds.toFixed(2)} s`,
      },
    ];
    writeRows(rows);
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`publish benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
