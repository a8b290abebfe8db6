// `npm run bench [-- name…]`: bundles bench/*.bench.ts into dist/bench/, runs each in its own
// process, and prints one table: our figure, the peer's figure measured in the same run, their
// ratio, the target and PASS/FAIL. Benchmarks report, tests assert: a FAIL still exits 0; a
// benchmark that cannot run at all exits 1.
//
// `npm run bench -- --only NAME[,NAME]` (or bare names) runs a subset. Every row also goes to
// bench/results/latest.json (name, ours_s, peer_s, ratio, target, pass, commit; rows of benchmarks not run
// this time, or of another name, are kept), and the rows of the hot-path benchmarks become the table between the
// `hot-paths` markers of docs/benchmarks.md.
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
const only = process.argv.slice(2).flatMap((arg) => (arg === '--only' ? [] : arg.replace(/^--only=/, '').split(','))).filter(Boolean);
/** Benchmarks whose rows make the "hot paths" table of docs/benchmarks.md (issue 19). */
const hotPathBenches = new Set(['hot-paths', 'load', 'growth']);
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

// The commit measured: the tree as it is built now (edits made while the benchmarks run do not count).
const measuredTree = {
  commit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim() || null,
  dirty: spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).stdout.trim() !== '',
};

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

const verdictOf = (row) => (row.pass === null ? (row.note?.startsWith('n/a') ? 'N/A' : 'info') : row.pass ? 'PASS' : 'SHORT');
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
    const verdict = verdictOf(row);
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
writeResults(results);

/** bench/results/latest.json: this run's rows replace those of the same benchmarks; the others stay. */
function writeResults(runResults) {
  const { commit, dirty } = measuredTree;
  const resultsFile = path.join(root, 'bench', 'results', 'latest.json');
  let previous = [];
  try {
    previous = JSON.parse(readFileSync(resultsFile, 'utf8')).results;
  } catch {
    // first run, or an unreadable file: start afresh
  }
  const measuredAt = new Date().toISOString();
  const machine = `${os.cpus().length} CPU (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}`;
  const fresh = runResults.flatMap((result) =>
    result.ok
      ? result.rows.map((row) => ({
          bench: result.name,
          name: row.benchmark,
          ours_s: row.oursSeconds ?? (row.unit === 's' ? row.ours : null),
          peer_s: row.peerSeconds ?? (row.unit === 's' ? row.peer : null),
          ours_cpu_s: row.oursCpuSeconds ?? null,
          peer_cpu_s: row.peerCpuSeconds ?? null,
          ours: row.ours,
          peer: row.peer,
          unit: row.unit,
          peer_label: row.peerLabel,
          ratio: row.ratio,
          target: row.target,
          pass: row.pass,
          verdict: verdictOf(row),
          note: row.note ?? null,
          commit: dirty && commit ? `${commit}+uncommitted` : commit,
          measured_at: measuredAt,
          machine,
          load: os.loadavg().map((load) => Number(load.toFixed(2))),
        }))
      : [{ bench: result.name, name: result.name, ours_s: null, peer_s: null, ratio: null, target: null, pass: false, verdict: `ERROR: ${result.error}`, commit, measured_at: measuredAt, machine }],
  );
  // A row measured now replaces the row of the same name; the others (a subset was run) stay with their own commit.
  const names = new Set(fresh.map((entry) => entry.name));
  const all = [...previous.filter((entry) => !names.has(entry.name)), ...fresh];
  mkdirSync(path.dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify({ results: all }, null, 2)}\n`);
  writeDocsTable(all.filter((entry) => hotPathBenches.has(entry.bench)));
}

/** The table between `<!-- hot-paths:begin -->` and `<!-- hot-paths:end -->` in docs/benchmarks.md. */
function writeDocsTable(entries) {
  const docs = path.join(root, 'docs', 'benchmarks.md');
  const begin = '<!-- hot-paths:begin (written by npm run bench) -->';
  const end = '<!-- hot-paths:end -->';
  const text = readFileSync(docs, 'utf8');
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from || entries.length === 0) return;
  const seconds = (value) => (value === null || value === undefined ? '—' : `${Number(value).toFixed(2)} s`);
  const table = [
    '| path | ours | peer (same run) | ratio (peer ÷ ours) | target | result | CPU ours / peer | commit |',
    '|---|---|---|---|---|---|---|---|',
    ...entries.map((entry) => {
      const ours = entry.ours_s !== null && entry.ours_s !== undefined ? seconds(entry.ours_s) : `${format(entry.ours)} ${entry.unit ?? ''}`.trim();
      const peer = entry.peer_s !== null && entry.peer_s !== undefined ? `${seconds(entry.peer_s)} (${entry.peer_label})` : entry.peer === null || entry.peer === undefined ? '—' : `${format(entry.peer)} ${entry.unit} (${entry.peer_label})`;
      const cpu = entry.ours_cpu_s === null || entry.ours_cpu_s === undefined ? '—' : `${seconds(entry.ours_cpu_s)} / ${seconds(entry.peer_cpu_s)}`;
      return `| ${entry.name} | ${ours} | ${peer} | ${format(entry.ratio)} | ${entry.target ?? '—'} | ${entry.verdict} | ${cpu} | ${String(entry.commit ?? '—').slice(0, 10)} |`;
    }),
    '',
    `Measured ${[...new Set(entries.map((entry) => entry.measured_at.slice(0, 16).replace('T', ' ')))].join(', ')} UTC on ${entries[0].machine}, load average ${entries[0].load?.join(' ') ?? '?'}.`,
  ].join('\n');
  writeFileSync(docs, `${text.slice(0, from + begin.length)}\n${table}\n${text.slice(to)}`);
}
process.exit(results.every((result) => result.ok) && !interrupted ? 0 : 1);
