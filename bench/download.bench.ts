// Download of a BENCH_SIZE_MIB package (default 1 GiB) from `torsh-depot serve` through
// RegistryClient (SHA-256 verified, written to a file) against `curl -o /dev/null` of the same bytes
// from nginx (sendfile) on the same machine: throughput ratio ≥ 0.8. Rounds alternate, medians compared.
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegistryClient } from '../electron/services/registry-client/registry-client';
import { ensureBigPackage } from './support/big-package';
import { curl } from './support/curl';
import { ProcessGroup } from './support/processes';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';
import { linkIntoNginx, startNginx, startServeWithPackage } from './support/servers';

const sizeMiB = envNumber('BENCH_SIZE_MIB', 1024);
const rounds = envNumber('BENCH_DOWNLOAD_ROUNDS', 3);
const target = 0.8;
const adminKey = 'bench-admin-key-0123456789abcdef';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'download-'));
  const group = new ProcessGroup();
  const shmDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/torsh-depot-bench-') : null;
  // Outside the run's work folder: removed here even when an interrupt ends the process early.
  if (shmDir) process.once('exit', () => rmSync(shmDir, { recursive: true, force: true }));
  try {
    const pkg = await ensureBigPackage(base, sizeMiB);
    const serve = await startServeWithPackage(group, path.join(dir, 'data'), adminKey, pkg);

    const nginx = await startNginx(group, path.join(dir, 'nginx'));
    // The very file that was published, linked (not copied) into nginx's root.
    const nginxUrl = linkIntoNginx(nginx, pkg.file);
    // Also at the registry's download path, so RegistryClient can fetch it from nginx: the client alone.
    const apiPath = path.join(nginx.www, 'api', 'v1', 'packages', pkg.name, pkg.version);
    mkdirSync(apiPath, { recursive: true });
    linkSync(pkg.file, path.join(apiPath, 'download'));
    const serveUrl = `${serve.origin}/api/v1/packages/${pkg.name}/${pkg.version}/download`;
    const client = new RegistryClient({ baseUrl: serve.origin, apiKey: adminKey });
    const clientOfNginx = new RegistryClient({ baseUrl: nginx.origin });
    const toDisk = path.join(dir, 'downloaded.torshpkg');
    const toMemory = shmDir ? path.join(shmDir, 'downloaded.torshpkg') : null;

    const seconds = { nginx: [] as number[], client: [] as number[], clientShm: [] as number[], clientNginx: [] as number[], serveCurl: [] as number[] };
    const clientDownload = async (dest: string, from = client): Promise<number> => {
      const started = performance.now();
      const result = await from.download(pkg.name, pkg.version, dest, { expectedDigest: pkg.digest });
      const elapsed = (performance.now() - started) / 1000;
      if (result.digest !== pkg.digest || result.size !== pkg.size) throw new Error(`RegistryClient returned ${result.digest} (${result.size} bytes)`);
      rmSync(dest, { force: true });
      return elapsed;
    };
    // One untimed pass: page cache warm on both sides, JIT warm.
    await curl(group, ['-o', '/dev/null', nginxUrl]);
    await clientDownload(toMemory ?? toDisk);
    for (let round = 0; round < rounds; round += 1) {
      const fromNginx = await curl(group, ['-o', '/dev/null', nginxUrl]);
      if (fromNginx.httpCode !== 200 || fromNginx.downloaded !== pkg.size) throw new Error(`nginx sent ${fromNginx.httpCode}, ${fromNginx.downloaded} bytes`);
      seconds.nginx.push(fromNginx.seconds);
      seconds.client.push(await clientDownload(toDisk));
      if (toMemory) seconds.clientShm.push(await clientDownload(toMemory));
      if (toMemory) seconds.clientNginx.push(await clientDownload(toMemory, clientOfNginx));
      const fromServe = await curl(group, ['-H', `Authorization: Bearer ${adminKey}`, '-o', '/dev/null', serveUrl]);
      if (fromServe.httpCode !== 200 || fromServe.downloaded !== pkg.size) throw new Error(`serve sent ${fromServe.httpCode}, ${fromServe.downloaded} bytes`);
      seconds.serveCurl.push(fromServe.seconds);
      log(
        `download round ${round + 1}: nginx+curl ${fromNginx.seconds.toFixed(2)} s, RegistryClient ${seconds.client.at(-1)?.toFixed(2)} s (disk), ` +
          `${seconds.clientShm.at(-1)?.toFixed(2) ?? '—'} s (tmpfs), from nginx ${seconds.clientNginx.at(-1)?.toFixed(2) ?? '—'} s (tmpfs), serve+curl ${fromServe.seconds.toFixed(2)} s`,
      );
    }
    await serve.stop();
    await nginx.stop();

    const rate = (list: number[]): number => pkg.size / 2 ** 20 / median(list);
    const peer = rate(seconds.nginx);
    const peerLabel = 'nginx + curl -o /dev/null';
    const size = `${(pkg.size / 2 ** 30).toFixed(2)} GiB`;
    const clientRate = rate(seconds.client);
    const rows: BenchRow[] = [
      {
        benchmark: `download ${size}: RegistryClient from serve, digest verified, to a file on disk`,
        ours: clientRate,
        unit: 'MiB/s',
        peerLabel,
        peer,
        ratio: ratioOf(clientRate, peer),
        target: `ratio ≥ ${target}`,
        pass: clientRate / peer >= target,
        note: `median of ${rounds}: RegistryClient ${median(seconds.client).toFixed(2)} s (includes fsync of the file), nginx ${median(seconds.nginx).toFixed(2)} s`,
      },
    ];
    if (toMemory) {
      const shmRate = rate(seconds.clientShm);
      const nginxClientRate = rate(seconds.clientNginx);
      rows.push(
        {
          benchmark: `download ${size}: RegistryClient from serve, to tmpfs (/dev/shm)`,
          ours: shmRate,
          unit: 'MiB/s',
          peerLabel,
          peer,
          ratio: ratioOf(shmRate, peer),
          target: 'info',
          pass: null,
          note: `no disk under the file (${median(seconds.clientShm).toFixed(2)} s)`,
        },
        {
          benchmark: `download ${size}: RegistryClient from nginx, to tmpfs (the client alone)`,
          ours: nginxClientRate,
          unit: 'MiB/s',
          peerLabel,
          peer,
          ratio: ratioOf(nginxClientRate, peer),
          target: 'info',
          pass: null,
          note: `same server as the peer, so the difference is the client: receive, SHA-256, write (${median(seconds.clientNginx).toFixed(2)} s)`,
        },
      );
    }
    const serveRate = rate(seconds.serveCurl);
    rows.push({
      benchmark: `download ${size}: serve + curl -o /dev/null (no client)`,
      ours: serveRate,
      unit: 'MiB/s',
      peerLabel,
      peer,
      ratio: ratioOf(serveRate, peer),
      target: 'info',
      pass: null,
      note: `the host's side alone: ${median(seconds.serveCurl).toFixed(2)} s`,
    });
    writeRows(rows);
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
    if (shmDir) rmSync(shmDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`download benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
