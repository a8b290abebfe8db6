// Search and the all-versions list at BENCH_PACKAGES packages (default 100,000), measured at the
// repository and through `GET /api/v1/search` of a running `torsh-depot serve`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../electron/services/database/open-database';
import { migrations } from '../electron/services/database/migrations';
import { RegistryRepository } from '../electron/services/registry/registry-repository';
import { ProcessGroup } from './support/processes';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';
import { searchQueryMix, summarize, type BenchQuery, type LatencySummary } from './support/search-queries';
import { startServe } from './support/servers';
import { populateRegistry } from './support/synthetic-registry';

const packageCount = envNumber('BENCH_PACKAGES', 100_000);
const rounds = envNumber('BENCH_SEARCH_ROUNDS', 5);
const perPage = 20;
const listPage = 100;
const listOffsets = 50;

function ms(value: number): string {
  return value.toFixed(2);
}

function kindTable(title: string, byKind: Map<string, number[]>, matches: Map<string, number>): string {
  const lines = [`${title}`, '', '| queries | samples | matches (max) | p50 ms | p95 ms | max ms |', '|---|---|---|---|---|---|'];
  for (const [kind, samples] of byKind) {
    const s = summarize(samples);
    lines.push(`| ${kind} | ${s.count} | ${matches.get(kind) ?? '—'} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.max)} |`);
  }
  return lines.join('\n');
}

async function timeQueries(queries: BenchQuery[], run: (query: BenchQuery) => Promise<number> | number): Promise<{ all: number[]; byKind: Map<string, number[]>; matches: Map<string, number> }> {
  const all: number[] = [];
  const byKind = new Map<string, number[]>();
  const matches = new Map<string, number>();
  for (const query of queries) await run(query); // warm-up: statements prepared, pages mapped
  for (let round = 0; round < rounds; round += 1) {
    for (const query of queries) {
      const started = performance.now();
      const total = await run(query);
      const elapsed = performance.now() - started;
      all.push(elapsed);
      const samples = byKind.get(query.kind) ?? [];
      samples.push(elapsed);
      byKind.set(query.kind, samples);
      matches.set(query.kind, Math.max(matches.get(query.kind) ?? 0, total));
    }
  }
  return { all, byKind, matches };
}

function getJson(agent: Agent, url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200) reject(new Error(`GET ${url}: ${response.statusCode} ${text.slice(0, 300)}`));
        else resolve(JSON.parse(text));
      });
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'search-'));
  const group = new ProcessGroup();
  try {
    const dataDir = path.join(dir, 'data');
    mkdirSync(dataDir);
    const db = openDatabase(path.join(dataDir, 'torsh-depot.sqlite'), migrations);
    const repository = new RegistryRepository(db);
    log(`search: publishing ${packageCount} synthetic packages through the repository`);
    const started = performance.now();
    const populated = populateRegistry(db, repository, packageCount, (done) => {
      if (done % 20_000 === 0) log(`search: ${done} packages`);
    });
    log(`search: ${populated.packages} packages, ${populated.versions} versions in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const queries = searchQueryMix(populated.names);
    // A public registry: anonymous HTTP searches see every package, through the visibility-filtered queries.
    db.prepare(`UPDATE packages SET visibility = 'public'`).run();

    const repo = await timeQueries(queries, (query) => repository.search(query.q, query.page, perPage).total);
    const repoAll = summarize(repo.all);
    log(`search: repository p50 ${ms(repoAll.p50)} ms, p95 ${ms(repoAll.p95)} ms`);

    const versionTotal = repository.listVersionRows(0, 1).total;
    const offsets = Array.from({ length: listOffsets }, (_, index) => Math.round((index / (listOffsets - 1)) * Math.max(0, versionTotal - listPage)));
    const listSamples: number[] = [];
    for (const offset of offsets) repository.listVersionRows(offset, listPage);
    for (let round = 0; round < rounds; round += 1) {
      for (const offset of offsets) {
        const t = performance.now();
        repository.listVersionRows(offset, listPage);
        listSamples.push(performance.now() - t);
      }
    }
    const list = summarize(listSamples);
    log(`search: listVersionRows p50 ${ms(list.p50)} ms, p95 ${ms(list.p95)} ms`);
    db.close();

    const serve = await startServe(group, dataDir);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let http: { all: number[]; byKind: Map<string, number[]>; matches: Map<string, number> };
    try {
      http = await timeQueries(queries, async (query) => {
        const url = `${serve.origin}/api/v1/search?q=${encodeURIComponent(query.q)}&page=${query.page}&per_page=${perPage}`;
        return ((await getJson(agent, url)) as { total: number }).total;
      });
    } finally {
      agent.destroy();
      await serve.stop();
    }
    const httpAll = summarize(http.all);
    log(`search: HTTP p50 ${ms(httpAll.p50)} ms, p95 ${ms(httpAll.p95)} ms`);

    const scale = `${Math.round(populated.packages / 1000)}k packages`;
    const rows: BenchRow[] = [
      searchRow(`search p95, repository (${scale})`, repoAll, null, ''),
      searchRow(`search p95, HTTP GET /api/v1/search (${scale})`, httpAll, repoAll.p95, 'same queries at the repository'),
      {
        benchmark: `list page of ${listPage} p95, listVersionRows (${populated.versions} versions)`,
        ours: list.p95,
        unit: 'ms',
        peerLabel: '',
        peer: null,
        ratio: null,
        target: '≤ 5 ms',
        pass: list.p95 <= 5,
        note: `p50 ${ms(list.p50)} ms, max ${ms(list.max)} ms, ${listOffsets} offsets from 0 to ${versionTotal - listPage}`,
      },
    ];
    const details = [
      `${queries.length} queries × ${rounds} rounds after one warm-up round, ${perPage} per page; ${populated.packages} packages, ${populated.versions} versions.`,
      '',
      kindTable('Repository (`RegistryRepository.search`):', repo.byKind, repo.matches),
      '',
      kindTable('HTTP (`GET /api/v1/search`, keep-alive, one connection):', http.byKind, http.matches),
    ].join('\n');
    writeRows(rows, details);
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

function searchRow(benchmark: string, summary: LatencySummary, peer: number | null, peerLabel: string): BenchRow {
  return {
    benchmark,
    ours: summary.p95,
    unit: 'ms',
    peerLabel,
    peer,
    ratio: ratioOf(summary.p95, peer),
    target: '≤ 10 ms',
    pass: summary.p95 <= 10,
    note: `p50 ${ms(summary.p50)} ms, max ${ms(summary.max)} ms, ${summary.count} samples`,
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`search benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
