// Backups of ten versions of a BENCH_SIZE_MIB package (default 512 MiB) where each later version
// rewrites 5% of its tensors and a line of metadata (a fine-tune's shape), against restic 0.14
// (repository version 2, compression auto) backing up the same files in the same run. Reports bytes
// added by versions 2–10 (target ≤ 0.8 × restic), backup time of version 1 and of versions 2–10, restore
// time of version 10 (targets ≤ 1.0 × restic) and the peak RSS of our backup and restore (≤ 300 MiB).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeModelVersions } from '../test/support/model-versions';
import { ProcessGroup } from './support/processes';
import { envNumber, log, ratioOf, writeRows } from './support/report';
import { timedCommand } from './support/timed-command';

const sizeMiB = envNumber('BENCH_SIZE_MIB', 512);
const versionCount = envNumber('BENCH_BACKUP_VERSIONS', 10);
const rssLimitMiB = 300;
const passphrase = 'bench passphrase, not a secret';

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

async function main(): Promise<void> {
  const group = new ProcessGroup();
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const root = process.env.BENCH_PROJECT_ROOT ?? process.cwd();
  const dir = mkdtempSync(path.join(base, 'backup-'));
  try {
    const tensorMiB = sizeMiB >= 128 ? 8 : 1;
    const tensors = Math.max(20, Math.round(sizeMiB / tensorMiB));
    log(`making ${versionCount} versions of a ${sizeMiB} MiB package (${tensors} tensors of ${tensorMiB} MiB, 5% rewritten per version)`);
    const versions = await makeModelVersions(dir, { name: 'bench-model', versions: versionCount, tensors, tensorBytes: tensorMiB * 1024 * 1024, changeFraction: 0.05 });
    const current = path.join(dir, 'current');
    mkdirSync(current);
    const source = path.join(current, 'model.torshpkg');
    const oursRepo = path.join(dir, 'ours-repo');
    const resticRepo = path.join(dir, 'restic-repo');
    const passFile = path.join(dir, 'pass.txt');
    writeFileSync(passFile, `${passphrase}\n`);
    const resticEnv = { ...process.env, RESTIC_REPOSITORY: resticRepo, RESTIC_PASSWORD: passphrase, RESTIC_CACHE_DIR: path.join(dir, 'restic-cache') };
    const rssFile = path.join(dir, 'rss');
    const oursEnv = { ...process.env, TORSH_DEPOT_BACKUP_PASSPHRASE: passphrase, NODE_OPTIONS: `--import ${path.join(root, 'test', 'support', 'max-rss-preload.mjs')}`, TORSH_DEPOT_MAX_RSS_FILE: rssFile };
    const bin = path.join(root, 'bin', 'torsh-depot.cjs');
    const repoUrl = pathToFileURL(oursRepo).href;
    await timedCommand(group, 'restic', ['init', '--repository-version', '2', '-q'], resticEnv);
    await timedCommand(group, process.execPath, [bin, 'backup', 'init', '--repo', repoUrl], oursEnv);
    const sizes = { ours: [folderBytes(oursRepo)], restic: [folderBytes(resticRepo)] };
    const times = { ours: [] as number[], restic: [] as number[] };
    let backupRss = 0;
    for (const [index, version] of versions.entries()) {
      copyFileSync(version, source);
      readFileSync(source); // page cache warm for both
      times.restic.push((await timedCommand(group, 'restic', ['backup', '-q', '--compression', 'auto', source], resticEnv)).seconds);
      times.ours.push((await timedCommand(group, process.execPath, [bin, 'backup', 'run', '--repo', repoUrl, '--path', source, '--strategy', 'incremental'], oursEnv)).seconds);
      backupRss = Math.max(backupRss, Number(readFileSync(rssFile, 'utf8')));
      sizes.ours.push(folderBytes(oursRepo));
      sizes.restic.push(folderBytes(resticRepo));
      log(`version ${index + 1}: restic ${times.restic.at(-1)?.toFixed(2)} s (+${((sizes.restic.at(-1) ?? 0) - (sizes.restic.at(-2) ?? 0)) / 1e6} MB), ours ${times.ours.at(-1)?.toFixed(2)} s (+${((sizes.ours.at(-1) ?? 0) - (sizes.ours.at(-2) ?? 0)) / 1e6} MB)`);
    }
    const restoreOurs = path.join(dir, 'restore-ours');
    const restoreRestic = path.join(dir, 'restore-restic');
    const resticRestore = (await timedCommand(group, 'sh', ['-c', 'restic restore latest -q --target "$1" && sync', 'sh', restoreRestic], resticEnv)).seconds;
    const snapshots = JSON.parse((await timedCommand(group, process.execPath, [bin, 'backup', 'snapshots', '--repo', repoUrl, '--json'], oursEnv)).stdout) as Array<{ id: string }>;
    const last = snapshots.at(-1)?.id ?? '';
    // Ours fsyncs every restored file before renaming it; restic does not, so it gets a `sync`.
    const oursRestore = (await timedCommand(group, process.execPath, [bin, 'backup', 'restore', last, '--repo', repoUrl, '--target', restoreOurs], oursEnv)).seconds;
    const restoreRss = Number(readFileSync(rssFile, 'utf8'));
    if (statSync(path.join(restoreOurs, 'model.torshpkg')).size !== statSync(versions.at(-1) ?? '').size) throw new Error('our restore has the wrong size');

    const added = (list: number[]): number => (list.at(-1) ?? 0) - (list[1] ?? 0);
    const sum = (list: number[]): number => list.reduce((total, value) => total + value, 0);
    const mib = (value: number): number => value / 1024 / 1024;
    const laterOurs = sum(times.ours.slice(1));
    const laterRestic = sum(times.restic.slice(1));
    writeRows(
      [
        { benchmark: `bytes added by versions 2–${versionCount} (${sizeMiB} MiB package)`, ours: added(sizes.ours) / 1e6, unit: 'MB', peerLabel: 'restic 0.14, repo v2, compression auto', peer: added(sizes.restic) / 1e6, ratio: ratioOf(added(sizes.ours), added(sizes.restic)), target: '≤ 0.8', pass: added(sizes.ours) <= 0.8 * added(sizes.restic) },
        { benchmark: 'backup time, version 1 (cold repository)', ours: times.ours[0] ?? null, unit: 's', peerLabel: 'restic backup', peer: times.restic[0] ?? null, ratio: ratioOf(times.ours[0] ?? null, times.restic[0] ?? null), target: '≤ 1.0', pass: (times.ours[0] ?? Infinity) <= (times.restic[0] ?? 0) },
        { benchmark: `backup time, versions 2–${versionCount} (sum)`, ours: laterOurs, unit: 's', peerLabel: 'restic backup', peer: laterRestic, ratio: ratioOf(laterOurs, laterRestic), target: '≤ 1.0', pass: laterOurs <= laterRestic },
        { benchmark: `restore time, version ${versionCount}`, ours: oursRestore, unit: 's', peerLabel: 'restic restore + sync', peer: resticRestore, ratio: ratioOf(oursRestore, resticRestore), target: '≤ 1.0', pass: oursRestore <= resticRestore },
        { benchmark: 'peak RSS, `torsh-depot backup run`', ours: mib(backupRss), unit: 'MiB', peerLabel: '', peer: null, ratio: null, target: `≤ ${rssLimitMiB}`, pass: mib(backupRss) <= rssLimitMiB },
        { benchmark: 'peak RSS, `torsh-depot backup restore`', ours: mib(restoreRss), unit: 'MiB', peerLabel: '', peer: null, ratio: null, target: `≤ ${rssLimitMiB}`, pass: mib(restoreRss) <= rssLimitMiB },
      ],
      `Per version (s): ours ${times.ours.map((value) => value.toFixed(2)).join(', ')}; restic ${times.restic.map((value) => value.toFixed(2)).join(', ')}. Repository sizes after each version (MB): ours ${sizes.ours.map((value) => (value / 1e6).toFixed(1)).join(', ')}; restic ${sizes.restic.map((value) => (value / 1e6).toFixed(1)).join(', ')}. Whole CLI processes, both on a local folder in ${base}.`,
    );
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
