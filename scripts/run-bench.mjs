// `npm run bench [-- name…]`: bundles bench/*.bench.ts into dist/bench/, runs each in its own
// process, and prints one table: our figure, the peer's figure measured in the same run, their
// ratio, the target and PASS/FAIL. Benchmarks report, tests assert: a FAIL still exits 0; a
// benchmark that cannot run at all exits 1.
//
// Sizes: BENCH_SIZE_MIB (package size, default 1024), BENCH_PACKAGES (search, default 100000),
// BENCH_DOWNLOAD_ROUNDS, BENCH_SEARCH_ROUNDS. Quick run: BENCH_SIZE_MIB=64 BENCH_PACKAGES=5000.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeBundleOptions } from './node-bundle-options.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const outDir = path.join(root, 'dist', 'bench');

const benches = readdirSync(path.join(root, 'bench'))
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.slice(0, -'.bench.ts'.length))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();
if (benches.length === 0) {
  process.stderr.write(`no benchmark matches ${only.join(' ')}\n`);
  process.exit(1);
}

// The benchmarks start the built host (and list-scroll its UI): build both from the working tree first.
const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(1);

const workDir = mkdtempSync(path.join(os.tmpdir(), 'torsh-depot-bench-'));
let current = null;
let interrupted = false;
const onSignal = (signal) => {
  interrupted = true;
  if (current?.pid !== undefined && current.exitCode === null) current.kill(signal);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

/** Stops what a benchmark that crashed left running: PIDs it recorded, if still the same program. */
function stopLeftovers() {
  const file = path.join(workDir, 'pids');
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [pidText, program] = line.split(' ');
    const pid = Number(pidText);
    if (!pid || !program) continue;
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone
    }
    if (!cmdline.includes(program)) continue; // the PID was reused by something else
    try {
      process.kill(pid, 'SIGKILL');
      process.stderr.write(`stopped leftover ${program} (PID ${pid})\n`);
    } catch {
      // exited meanwhile
    }
  }
  rmSync(file, { force: true });
}

function runBench(name) {
  return new Promise((resolve) => {
    const resultFile = path.join(workDir, `${name}.result.json`);
    const child = spawn(process.execPath, [path.join(outDir, `${name}.cjs`)], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, BENCH_WORK_DIR: workDir, BENCH_RESULT_FILE: resultFile, BENCH_PROJECT_ROOT: root },
    });
    current = child;
    child.on('exit', (code, signal) => {
      current = null;
      stopLeftovers();
      if (code === 0 && existsSync(resultFile)) resolve({ name, ok: true, ...JSON.parse(readFileSync(resultFile, 'utf8')) });
      else resolve({ name, ok: false, error: signal ? `killed by ${signal}` : `exited with ${code}` });
    });
  });
}

const format = (value, digits = 2) => (value === null || value === undefined ? '—' : Number(value).toFixed(digits));

const results = [];
try {
  mkdirSync(outDir, { recursive: true });
  for (const name of benches) {
    if (interrupted) break;
    process.stderr.write(`\n== bench ${name}\n`);
    try {
      await build({
        entryPoints: [path.join(root, 'bench', `${name}.bench.ts`)],
        outfile: path.join(outDir, `${name}.cjs`),
        ...nodeBundleOptions,
        // The browser driver loads its own files at run time: require it from node_modules.
        external: [...nodeBundleOptions.external, 'playwright-core'],
      });
    } catch (error) {
      results.push({ name, ok: false, error: `does not build: ${error.message.split('\n').slice(0, 3).join(' ')}` });
      continue;
    }
    results.push(await runBench(name));
  }
} finally {
  stopLeftovers();
  rmSync(workDir, { recursive: true, force: true });
}

const lines = [
  '| benchmark | ours | peer (same run) | ratio | target | result |',
  '|---|---|---|---|---|---|',
];
for (const result of results) {
  if (!result.ok) {
    lines.push(`| ${result.name} | — | — | — | — | ERROR: ${result.error} |`);
    continue;
  }
  for (const row of result.rows) {
    const peer = row.peer === null ? '—' : `${format(row.peer)} ${row.unit} (${row.peerLabel})`;
    const verdict = row.pass === null ? (row.note?.startsWith('n/a') ? 'N/A' : 'info') : row.pass ? 'PASS' : 'FAIL';
    lines.push(`| ${row.benchmark} | ${format(row.ours)} ${row.unit} | ${peer} | ${format(row.ratio)} | ${row.target} | ${verdict} |`);
  }
}
const notes = results.flatMap((result) => (result.ok ? result.rows.filter((row) => row.note).map((row) => `- ${row.benchmark}: ${row.note}`) : []));
const details = results.filter((result) => result.ok && result.details).map((result) => `### ${result.name}\n\n${result.details}`);
const report = [
  `Torsh Depot benchmarks — ${new Date().toISOString()} — Node ${process.version}, ${os.cpus().length} CPU (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`,
  '',
  ...lines,
  '',
  ...notes,
  '',
  ...details.flatMap((text) => [text, '']),
].join('\n');
process.stdout.write(`\n${report}`);
writeFileSync(path.join(outDir, 'last-run.md'), report);
process.exit(results.every((result) => result.ok) && !interrupted ? 0 : 1);
