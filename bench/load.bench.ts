// Issue 19, load: N concurrent downloads of one BENCH_LOAD_MIB package (default 100 MiB) from `serve`
// against nginx serving the same file with sendfile (aggregate throughput, time to first byte p50/p99,
// errors), at 1, 8 and BENCH_LOAD_CLIENTS (default 64) clients; then 16 concurrent publishes of distinct
// BENCH_LOAD_PUBLISH_MIB (default 50) MiB packages. The client is the same for both servers: Node's
// http, one socket per request, bytes counted and dropped. Target: ≥ 0.5× nginx's aggregate at 64.
import { randomFillSync } from 'node:crypto';
import { chmodSync, createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { packPackage } from '../electron/services/packages/format';
import { ensureBigPackage } from './support/big-package';
import { ProcessGroup } from './support/processes';
import { envNumber, log, writeRows, type BenchRow } from './support/report';
import { linkIntoNginx, startNginx, startServe, startServeWithPackage } from './support/servers';
import { median } from './support/timed-command';

const sizeMiB = envNumber('BENCH_LOAD_MIB', 100);
const maxClients = envNumber('BENCH_LOAD_CLIENTS', 64);
const publishes = envNumber('BENCH_LOAD_PUBLISHES', 16);
const publishMiB = envNumber('BENCH_LOAD_PUBLISH_MIB', 50);
const adminKey = 'bench-admin-key-0123456789abcdef';
const MiB = 1024 * 1024;

interface Fetched {
  ttfb: number;
  seconds: number;
  bytes: number;
  error: string | null;
}

function fetchOnce(url: string, headers: Record<string, string>): Promise<Fetched> {
  const started = performance.now();
  return new Promise((resolve) => {
    let ttfb = 0;
    let bytes = 0;
    const req = request(url, { headers, agent: false }, (response: IncomingMessage) => {
      response.once('data', () => (ttfb = (performance.now() - started) / 1000));
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve({ ttfb, seconds: (performance.now() - started) / 1000, bytes, error: response.statusCode === 200 ? null : `HTTP ${response.statusCode}` }));
      response.on('error', (error) => resolve({ ttfb, seconds: 0, bytes, error: error.message }));
    });
    req.on('error', (error) => resolve({ ttfb, seconds: 0, bytes, error: error.message }));
    req.end();
  });
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}

/** `clients` downloads at once; aggregate MiB/s over the wall time of the whole batch. */
async function batch(url: string, headers: Record<string, string>, clients: number, size: number): Promise<{ mibPerSecond: number; ttfbP50: number; ttfbP99: number; errors: number }> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: clients }, () => fetchOnce(url, headers)));
  const seconds = (performance.now() - started) / 1000;
  const errors = results.filter((result) => result.error !== null || result.bytes !== size).length;
  const ttfbs = results.map((result) => result.ttfb);
  return { mibPerSecond: results.reduce((sum, result) => sum + result.bytes, 0) / MiB / seconds, ttfbP50: median(ttfbs), ttfbP99: percentile(ttfbs, 0.99), errors };
}

function putFile(url: string, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', agent: false, headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/octet-stream', 'Content-Length': statSync(file).size } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'load-'));
  chmodSync(dir, 0o755);
  const group = new ProcessGroup();
  const rows: BenchRow[] = [];
  const curve: string[] = ['| clients | serve MiB/s | nginx MiB/s | ratio | serve TTFB p50 / p99 ms | nginx TTFB p50 / p99 ms | errors (serve / nginx) |', '|---|---|---|---|---|---|---|'];
  try {
    const pkg = await ensureBigPackage(base, sizeMiB);
    const serve = await startServeWithPackage(group, path.join(dir, 'data'), adminKey, pkg);
    const nginx = await startNginx(group, path.join(dir, 'nginx'));
    const nginxUrl = linkIntoNginx(nginx, pkg.file);
    const serveUrl = `${serve.origin}/api/v1/packages/${pkg.name}/${pkg.version}/download`;
    const auth = { Authorization: `Bearer ${adminKey}` };
    await batch(serveUrl, auth, 1, pkg.size);
    await batch(nginxUrl, {}, 1, pkg.size);
    for (const clients of [...new Set([1, 8, maxClients])]) {
      // Alternating which server goes first; the page cache is warm for both (same file).
      const first = clients % 2 === 0;
      const ours = first ? await batch(serveUrl, auth, clients, pkg.size) : null;
      const peer = await batch(nginxUrl, {}, clients, pkg.size);
      const oursResult = ours ?? (await batch(serveUrl, auth, clients, pkg.size));
      const ratio = oursResult.mibPerSecond / peer.mibPerSecond;
      log(`${clients} clients: serve ${oursResult.mibPerSecond.toFixed(0)} MiB/s (TTFB p99 ${(oursResult.ttfbP99 * 1000).toFixed(0)} ms, ${oursResult.errors} errors), nginx ${peer.mibPerSecond.toFixed(0)} MiB/s`);
      curve.push(
        `| ${clients} | ${oursResult.mibPerSecond.toFixed(0)} | ${peer.mibPerSecond.toFixed(0)} | ${ratio.toFixed(2)} | ${(oursResult.ttfbP50 * 1000).toFixed(1)} / ${(oursResult.ttfbP99 * 1000).toFixed(1)} | ${(peer.ttfbP50 * 1000).toFixed(1)} / ${(peer.ttfbP99 * 1000).toFixed(1)} | ${oursResult.errors} / ${peer.errors} |`,
      );
      if (clients === maxClients) {
        rows.push({
          benchmark: `${clients} concurrent downloads of ${sizeMiB} MiB: aggregate throughput`,
          ours: oursResult.mibPerSecond,
          unit: 'MiB/s',
          peerLabel: 'nginx, sendfile, same file',
          peer: peer.mibPerSecond,
          ratio,
          target: '≥ 0.5× nginx, no error',
          pass: ratio >= 0.5 && oursResult.errors === 0,
          note: `TTFB p50 ${(oursResult.ttfbP50 * 1000).toFixed(1)} ms, p99 ${(oursResult.ttfbP99 * 1000).toFixed(1)} ms (nginx ${(peer.ttfbP50 * 1000).toFixed(1)} / ${(peer.ttfbP99 * 1000).toFixed(1)} ms); errors ${oursResult.errors}`,
        });
      }
    }
    await serve.stop();
    await nginx.stop();

    // Publishes: distinct packages (names differ), random bytes each.
    const sources = path.join(dir, 'publish');
    mkdirSync(sources);
    const files: Array<{ file: string; name: string }> = [];
    const chunk = Buffer.allocUnsafe(publishMiB * MiB);
    for (let index = 0; index < publishes; index += 1) {
      const weights = path.join(sources, `weights-${index}.pt`);
      writeFileSync(weights, randomFillSync(chunk));
      const name = `load-${index}`;
      const file = path.join(sources, `${name}.torshpkg`);
      await packPackage({ name, version: '1.0.0', files: [{ sourcePath: weights, entryPath: 'models/weights.pt' }] }, file);
      rmSync(weights);
      files.push({ file, name });
    }
    const publishData = path.join(dir, 'publish-data');
    mkdirSync(publishData);
    const host = await startServe(group, publishData, { TORSH_DEPOT_ADMIN_KEY: adminKey });
    const started = performance.now();
    const statuses = await Promise.all(files.map(({ file, name }) => putFile(`${host.origin}/api/v1/packages/${name}/1.0.0`, file).catch(() => 0)));
    const seconds = (performance.now() - started) / 1000;
    await host.stop();
    const failed = statuses.filter((status) => status !== 201).length;
    const total = files.reduce((sum, { file }) => sum + statSync(file).size, 0) / MiB;
    log(`${publishes} concurrent publishes of ${publishMiB} MiB: ${seconds.toFixed(2)} s, ${(total / seconds).toFixed(0)} MiB/s, ${failed} failed`);
    rows.push({
      benchmark: `${publishes} concurrent publishes of distinct ${publishMiB} MiB packages`,
      ours: total / seconds,
      unit: 'MiB/s',
      peerLabel: '',
      peer: null,
      ratio: null,
      target: 'all succeed',
      pass: failed === 0,
      note: `${seconds.toFixed(2)} s for ${total.toFixed(0)} MiB; answers ${statuses.join(' ')}`,
    });
    writeRows(rows, `Concurrent downloads (${os.cpus().length} CPU cores, one socket per request, client in the benchmark process):\n\n${curve.join('\n')}`);
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`load benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
