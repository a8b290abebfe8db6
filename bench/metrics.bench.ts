// Monitoring overhead. (1) Recording 1,000,000 events through MetricsCollector: calls per second
// (what a caller pays) and events per second stored in SQLite (batched transactions).
// (2) The p99 latency of registry downloads while events are recorded in the background at a
// fixed rate (BENCH_METRICS_RATE, default 1,000 events/s: a registry serving 1,000 downloads a
// second; and 10× that for information), against the same downloads with recording off;
// target: < 5 % slower.
// The host runs in this process (recording competes for its event loop); the client is another
// process downloading over one keep-alive connection. Phases alternate off/on, latencies pooled.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { createCore } from '../electron/services/composition-root';
import { openDatabase } from '../electron/services/database/open-database';
import { migrations } from '../electron/services/database/migrations';
import { MetricsCollector } from '../electron/services/metrics/metrics-collector';
import { MetricsRepository } from '../electron/services/metrics/metrics-repository';
import { silentLogger } from '../electron/services/logger';
import { startHttpHost } from '../electron/host/http-host';
import { createRegistryRoutes } from '../electron/host/registry-routes';
import { ensureBigPackage } from './support/big-package';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';

const events = envNumber('BENCH_METRICS_EVENTS', 1_000_000);
const rate = envNumber('BENCH_METRICS_RATE', 1_000);
const highRate = rate * 10;
const packageMiB = envNumber('BENCH_METRICS_PACKAGE_MIB', 1);
const downloadsPerPhase = envNumber('BENCH_METRICS_DOWNLOADS', 200);
const rounds = envNumber('BENCH_METRICS_ROUNDS', 10);
const adminKey = 'bench-admin-key-0123456789abcdef';
const target = 1.05;

// The client: downloads `count` times from `url` over one keep-alive connection, prints latencies (ms).
const clientSource = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const once = (url) => new Promise((resolve, reject) => {
  const started = process.hrtime.bigint();
  http.get(url, { agent }, (response) => {
    let bytes = 0;
    response.on('data', (chunk) => (bytes += chunk.length));
    response.on('end', () => response.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error('HTTP ' + response.statusCode)));
  }).on('error', reject);
});
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const [url, count] = line.split(' ');
  const latencies = [];
  for (let index = 0; index < Number(count); index += 1) latencies.push(await once(url));
  process.stdout.write(JSON.stringify(latencies) + '\\n');
});
`;

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

async function recordingThroughput(dir: string): Promise<BenchRow[]> {
  const db = openDatabase(path.join(dir, 'throughput.sqlite'), migrations);
  const collector = new MetricsCollector({ repository: new MetricsRepository(db), logger: silentLogger, flushIntervalMs: 0, maxBuffered: events });
  const names = Array.from({ length: 200 }, (_, index) => `model-${index}`);
  const started = performance.now();
  for (let index = 0; index < events; index += 1) {
    const name = names[index % names.length] as string;
    if (index % 50 === 0) collector.recordError('download', 'registry', 'NOT_FOUND');
    else collector.recordDownload(name, `1.${index % 5}.0`, 1_000 + (index % 10_000), index % 2_000, index % 4 === 0 ? 'mirror-eu' : 'registry');
  }
  const recorded = performance.now();
  await collector.drain();
  const stored = performance.now();
  await collector.close();
  const rows = (db.prepare('SELECT count(*) AS n FROM metric_events').get() as { n: number }).n;
  db.close();
  if (rows !== events) throw new Error(`stored ${rows} of ${events} events`);
  const callRate = events / ((recorded - started) / 1000);
  const storeRate = events / ((stored - started) / 1000);
  log(`recorded ${events} events in ${(recorded - started).toFixed(0)} ms, stored in ${(stored - started).toFixed(0)} ms`);
  const infoRow = (what: string, perSecond: number, note: string): BenchRow => ({
    benchmark: `record ${events.toLocaleString('en')} events: ${what}`,
    ours: perSecond,
    unit: 'events/s',
    peerLabel: '',
    peer: null,
    ratio: null,
    target: 'info',
    pass: null,
    note,
  });
  return [
    infoRow('calls (in memory, what a caller waits)', callRate, `${(recorded - started).toFixed(0)} ms for all calls`),
    infoRow('stored in SQLite (raw + minute + hour rollups)', storeRate, `${(stored - started).toFixed(0)} ms until the last batch was committed (1,000 rows per transaction)`),
  ];
}

/** Records at `rate` events/s in 10 ms slices until stopped; returns how many it recorded. */
function backgroundRecording(collector: MetricsCollector, rate: number): { stop(): Promise<number> } {
  let recorded = 0;
  let running = true;
  const started = performance.now();
  const done = (async () => {
    while (running) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      for (; recorded < due; recorded += 1) collector.recordDownload(`model-${recorded % 200}`, '1.0.0', 4_096, recorded % 100, 'mirror-eu');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return recorded;
  })();
  return {
    async stop() {
      running = false;
      return done;
    },
  };
}

async function downloadLatency(dir: string): Promise<{ rows: BenchRow[]; details: string }> {
  const pkg = await ensureBigPackage(dir, packageMiB);
  const core = createCore({ dataDir: path.join(dir, 'data'), shell: 'headless', logger: silentLogger });
  const client: ChildProcess = spawn(process.execPath, ['-e', clientSource], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    core.access.ensureAdminKey(adminKey);
    const routes = (withMetrics: boolean) =>
      createRegistryRoutes({
        registry: core.registry,
        authorizer: core.authorizer,
        tmpDir: core.tmpDir,
        maxPackageBytes: () => 1024 ** 3,
        logger: silentLogger,
        ...(withMetrics ? { metrics: core.metrics.collector } : {}),
      });
    const off = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, apiRoutes: [routes(false)] });
    const on = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, apiRoutes: [routes(true)] });
    const control = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, apiRoutes: [routes(false)] });
    const published = await fetch(`${off.url}api/v1/packages/${pkg.name}/${pkg.version}`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` }, body: readFileSync(pkg.file) });
    if (published.status !== 201) throw new Error(`publish answered ${published.status}`);
    // The timed downloads are anonymous: a public package (packages are internal by default).
    core.access.setPackageAccess(core.access.localContext(), pkg.name, { visibility: 'public' });
    const lines = createInterface({ input: client.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
    const run = async (base: string, count: number): Promise<number[]> => {
      client.stdin?.write(`${base}api/v1/packages/${pkg.name}/${pkg.version}/download ${count}\n`);
      const line = await lines.next();
      if (line.done) throw new Error('the download client exited');
      return JSON.parse(line.value) as number[];
    };
    // Warm-up: JIT, page cache, connections.
    await run(off.url, 100);
    await run(on.url, 100);
    await run(control.url, 100);
    // 'control' repeats 'off' on its own host: how far two identical phases differ on this machine (noise).
    const phases = [
      { label: 'off', base: off.url, rate: 0 },
      { label: 'on', base: on.url, rate },
      { label: 'control', base: control.url, rate: 0 },
      { label: 'on-high', base: on.url, rate: highRate },
    ] as const;
    const latencies: Record<(typeof phases)[number]['label'], number[]> = { off: [], on: [], control: [], 'on-high': [] };
    const recorded = { on: 0, 'on-high': 0 };
    // Per-round p99 ratios against the same round's 'off': robust to the load drifting between rounds.
    const roundRatios = { on: [] as number[], control: [] as number[], 'on-high': [] as number[] };
    const seconds = { on: 0, 'on-high': 0 };
    for (let round = 0; round < rounds; round += 1) {
      // Rotate the order each round so no phase always follows the drain of another.
      const thisRound: Partial<Record<keyof typeof latencies, number[]>> = {};
      for (const phase of [...phases.slice(round % phases.length), ...phases.slice(0, round % phases.length)]) {
        if (phase.label === 'off' || phase.label === 'control') {
          const measured = await run(phase.base, downloadsPerPhase);
          thisRound[phase.label] = measured;
          latencies[phase.label].push(...measured);
          continue;
        }
        const phaseStart = performance.now();
        const recorder = backgroundRecording(core.metrics.collector, phase.rate);
        const measured = await run(phase.base, downloadsPerPhase);
        thisRound[phase.label] = measured;
        latencies[phase.label].push(...measured);
        recorded[phase.label] += await recorder.stop();
        seconds[phase.label] += (performance.now() - phaseStart) / 1000;
        // Not timed: the backlog of this phase must not spill into the next one.
        await core.metrics.collector.drain();
      }
      const offRound = percentile(thisRound.off ?? [], 0.99);
      for (const label of ['on', 'control', 'on-high'] as const) roundRatios[label].push(percentile(thisRound[label] ?? [], 0.99) / offRound);
      log(`round ${round + 1}: p99 off ${percentile(latencies.off, 0.99).toFixed(2)} ms, control ${percentile(latencies.control, 0.99).toFixed(2)} ms, on ${percentile(latencies.on, 0.99).toFixed(2)} ms, on-high ${percentile(latencies['on-high'], 0.99).toFixed(2)} ms`);
    }
    await off.close();
    await on.close();
    await control.close();
    const offP99 = percentile(latencies.off, 0.99);
    const summary = (label: keyof typeof latencies): string => `${label} p50 ${percentile(latencies[label], 0.5).toFixed(2)} ms / p99 ${percentile(latencies[label], 0.99).toFixed(2)} ms`;
    const details = [
      `- download latency, ${latencies.off.length} downloads per side of a ${packageMiB} MiB package, phases interleaved: ${summary('off')}; ${summary('control')}; ${summary('on')}; ${summary('on-high')}.`,
      `- median over rounds of the round's p99 ratio to its own 'off' phase: on ${percentile(roundRatios.on, 0.5).toFixed(2)}, control ${percentile(roundRatios.control, 0.5).toFixed(2)}, on-high ${percentile(roundRatios['on-high'], 0.5).toFixed(2)}.`,
      `- noise: the control phase (recording off, like 'off') differs from 'off' by a p99 ratio of ${(percentile(latencies.control, 0.99) / offP99).toFixed(2)}.`,
      `- background recording: ${recorded.on.toLocaleString('en')} events in ${seconds.on.toFixed(1)} s at the target rate, ${recorded['on-high'].toLocaleString('en')} in ${seconds['on-high'].toFixed(1)} s at 10×; plus one event per download.`,
    ].join('\n');
    const row = (label: 'on' | 'on-high', phaseRate: number, isTarget: boolean): BenchRow => {
      const p99 = percentile(latencies[label], 0.99);
      return {
        benchmark: `download p99 (${packageMiB} MiB, keep-alive) while recording ${phaseRate.toLocaleString('en')} events/s`,
        ours: p99,
        unit: 'ms',
        peerLabel: 'same downloads, recording off',
        peer: offP99,
        ratio: ratioOf(p99, offP99),
        target: isTarget ? `ratio < ${target}` : 'info',
        pass: isTarget ? p99 / offP99 < target : null,
        note: `${recorded[label].toLocaleString('en')} events recorded in the background`,
      };
    };
    return { rows: [row('on', rate, true), row('on-high', highRate, false)], details };
  } finally {
    client.kill('SIGTERM');
    await core.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(process.env.BENCH_WORK_DIR ?? os.tmpdir(), 'metrics-'));
  try {
    const throughput = await recordingThroughput(dir);
    const latency = await downloadLatency(dir);
    writeRows([...throughput, ...latency.rows], latency.details);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`metrics benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
