// CDN: (1) a BENCH_SIZE_MIB package (default 1 GiB) through a warm Varnish edge in front of
// `serve`: the `torsh-depot pull --registry <edge>` process (start-up, metadata, SHA-256 verified,
// written and fsynced) against `curl | tee >(openssl dgst -sha256) > file && sync` from the same
// edge, both whole processes — ratio ≥ 1.0.
// (2) a purge of 1,000 URLs through the Cloudflare provider against a recording server: time and
// number of API calls (batched by 100), reported.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CloudflareProvider } from '../electron/services/cdn/providers/cloudflare-provider';
import { runPurge } from '../electron/services/cdn/cdn-purger';
import { edgeVcl } from '../electron/services/cdn/varnish-vcl';
import { ensureBigPackage } from './support/big-package';
import { curl } from './support/curl';
import { drainOutput, freePort, ProcessGroup, waitUntil } from './support/processes';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';
import { httpStatus, projectRoot, startServeWithPackage } from './support/servers';
import { median, timedCommand } from './support/timed-command';

const sizeMiB = envNumber('BENCH_SIZE_MIB', 1024);
const rounds = envNumber('BENCH_CDN_ROUNDS', 3);
const purgeUrls = envNumber('BENCH_CDN_PURGE_URLS', 1000);
const adminKey = 'bench-admin-key-0123456789abcdef';

async function purgeAgainstRecorder(): Promise<{ seconds: number; calls: number; ok: number }> {
  let calls = 0;
  const server = createServer((request, response) => {
    calls += 1;
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ success: true, errors: [], messages: [], result: { id: `purge-${calls}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const provider = new CloudflareProvider({ zoneId: 'bench', apiToken: 'bench-token', endpoint: `http://127.0.0.1:${port}`, batchSize: 100 });
    const urls = Array.from({ length: purgeUrls }, (_, index) => `https://cdn.example.com/packages/p${index}/1.0.0/p${index}-1.0.0.torshpkg`);
    const report = await runPurge(provider, { urls, tags: [], soft: false }, { retry: { max_retries: 3, base_delay: 100, max_delay: 1000 } });
    return { seconds: report.durationMs / 1000, calls: report.apiCalls, ok: report.results.filter((result) => result.ok).length };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'cdn-'));
  const group = new ProcessGroup();
  try {
    const pkg = await ensureBigPackage(base, sizeMiB);
    const serve = await startServeWithPackage(group, path.join(dir, 'data'), adminKey, pkg);
    // Edges cache what anonymous clients may read: make the package public.
    const opened = await curl(group, ['-X', 'PATCH', '-H', `Authorization: Bearer ${adminKey}`, '-H', 'Content-Type: application/json', '--data', '{"visibility":"public"}', '-o', '/dev/null', `${serve.origin}/api/v1/packages/${pkg.name}`]);
    if (opened.httpCode !== 200) throw new Error(`making the package public answered ${opened.httpCode}`);

    // A Varnish edge in front of serve; file storage, as a 1 GiB object does not fit the test's 256 MB malloc.
    // varnishd reads its VCL as an unprivileged user: a folder of its own under the system temp, 0755.
    const edgeDir = mkdtempSync(path.join(os.tmpdir(), 'torsh-bench-varnish-'));
    chmodSync(edgeDir, 0o755);
    process.once('exit', () => rmSync(edgeDir, { recursive: true, force: true }));
    const vcl = path.join(edgeDir, 'edge.vcl');
    writeFileSync(vcl, edgeVcl({ edgeId: 'bench-edge', originHost: '127.0.0.1', originPort: Number(new URL(serve.origin).port) }));
    const port = await freePort();
    const storageMiB = Math.max(512, Math.ceil(sizeMiB * 1.5));
    const varnish = group.start('varnishd', ['-F', '-n', path.join(edgeDir, 'n'), '-a', `127.0.0.1:${port}`, '-f', vcl, '-s', `file,${path.join(edgeDir, 'cache.bin')},${storageMiB}M`]);
    drainOutput(varnish);
    const edge = `http://127.0.0.1:${port}`;
    const edgeUrl = `${edge}/api/v1/packages/${pkg.name}/${pkg.version}/download`;
    await waitUntil(async () => (await httpStatus(`${edge}/api/v1/health`)) === 200, 'varnish edge');
    // Warm the edge (MISS fills it), then check it answers from cache.
    await curl(group, ['-o', '/dev/null', edgeUrl]);
    const warm = await timedCommand(group, 'curl', ['-sS', '-o', '/dev/null', '-D', '-', edgeUrl]);
    if (!/x-cache: HIT/i.test(warm.stdout)) throw new Error(`the edge is not warm: ${warm.stdout}`);

    const pulled = path.join(dir, 'pulled');
    const peerFile = path.join(dir, 'peer.torshpkg');
    const peerScript = `curl -sS ${edgeUrl} | tee >(openssl dgst -sha256 > ${path.join(dir, 'peer.sha256')}) > ${peerFile} && sync`;
    const seconds = { pull: [] as number[], peer: [] as number[] };
    for (let round = 0; round < rounds; round += 1) {
      rmSync(pulled, { recursive: true, force: true });
      // timedCommand throws with the output's tail when the pull fails.
      const pullRun = await timedCommand(group, process.execPath, [path.join(projectRoot, 'bin', 'torsh-depot.cjs'), 'pull', `${pkg.name}@${pkg.version}`, '--registry', edge, '-o', pulled], {
        ...process.env,
        TORSH_DEPOT_API_KEY: '',
        TORSH_DEPOT_REGISTRY: '',
      });
      seconds.pull.push(pullRun.seconds);
      rmSync(pulled, { recursive: true, force: true });
      seconds.peer.push((await timedCommand(group, 'bash', ['-c', peerScript])).seconds);
      rmSync(peerFile, { force: true });
      log(`cdn round ${round + 1}: pull via edge ${seconds.pull.at(-1)?.toFixed(2)} s, curl|tee openssl ${seconds.peer.at(-1)?.toFixed(2)} s`);
    }
    await group.stop(varnish);
    await serve.stop();

    const purge = await purgeAgainstRecorder();
    const rate = (list: number[]): number => pkg.size / 2 ** 20 / median(list);
    const ours = rate(seconds.pull);
    const peer = rate(seconds.peer);
    const size = `${(pkg.size / 2 ** 30).toFixed(2)} GiB`;
    const rows: BenchRow[] = [
      {
        benchmark: `cdn ${size} through a warm Varnish edge: torsh-depot pull (process, SHA-256, fsync)`,
        ours,
        unit: 'MiB/s',
        peerLabel: 'curl | tee >(openssl dgst -sha256) > file && sync, same edge',
        peer,
        ratio: ratioOf(ours, peer),
        target: 'ratio ≥ 1.0',
        pass: ours / peer >= 1.0,
        note: `median of ${rounds}: pull ${median(seconds.pull).toFixed(2)} s, peer ${median(seconds.peer).toFixed(2)} s`,
      },
      {
        benchmark: `cdn purge of ${purgeUrls} URLs (Cloudflare API against a recorder, 100 per call)`,
        ours: purge.seconds,
        unit: 's',
        peerLabel: '',
        peer: null,
        ratio: null,
        target: 'info',
        pass: null,
        note: `${purge.calls} API calls, ${purge.ok} of ${purgeUrls} URLs confirmed`,
      },
    ];
    writeRows(rows);
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
