import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BackupRepository } from '../../services/backup/backup-repository';
import { defaultCompression } from '../../services/backup/chunk-codec';
import { runBackup, type BackupProgress } from '../../services/backup/backup-runner';
import { collectPaths, snapshotRegistry, snapshotVersion } from '../../services/backup/backup-sources';
import { backupStrategies, type BackupStrategy, type Snapshot } from '../../services/backup/repository-format';
import { removeLocks } from '../../services/backup/repository-lock';
import { diffSnapshots, releaseRecoveryPointSnapshot, repositoryStats, retentionGroupsView, summarizeSnapshot } from '../../services/backup/snapshot-views';
import type { SnapshotSummary } from '../../../shared/domain/backup';
import { runForget, runPrune } from '../../services/backup/prune-runner';
import { runRestore } from '../../services/backup/restore-runner';
import { recoveryPointTag, type RetentionPolicy } from '../../services/backup/retention-policy';
import { runVerify } from '../../services/backup/verify-runner';
import { parseAgeIdentities } from '../../services/encryption/x25519-keys';
import { parseBlobStoreUrl } from '../../services/storage/blob-store-url';
import { createStorageBackend } from '../../services/storage/storage-factory';
import type { StorageBackend } from '../../services/storage/storage-backend';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { formatBytes, parseCommandArgs, stopController } from './command-options';
import { readPassphraseFile } from './passphrase-input';

export const backupUsage = `Usage: torsh-depot backup <init|run|snapshots|diff|verify|restore|forget|prune|recovery-point|unlock|stats> [options]

Deduplicating, compressed, encrypted backups of packages and whole registries (docs/formats/backup-repository.md).
Every subcommand takes:
  --repo URL               the repository: file:///path, s3://bucket/prefix?endpoint=…, azure://…, gs://…
                           (default: $TORSH_DEPOT_BACKUP_REPOSITORY)
  --passphrase-file FILE   the repository passphrase (default: $TORSH_DEPOT_BACKUP_PASSPHRASE)
  --identity FILE          age identity to read a write-only repository's data
  --json                   print the result as JSON
Subcommands:
  init [--recipient age1…]… [--compression zstd|brotli|none] [--level N] [--chunk-min/--chunk-avg/--chunk-max BYTES]
  run (--path P… | --data-dir DIR [--version NAME@VERSION]) [--strategy full|incremental|differential] [--tag T]… [--note TEXT]
  snapshots                          list snapshots (oldest first)
  diff ID ID                         files added, removed and changed between two snapshots
  verify [--read-data | --read-data-subset PCT]
  restore (ID | --recovery-point ID) --target DIR [--path P]…
  forget [--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--keep-yearly N]
         [--keep-within 1y2m3d4h] [--keep-tag T]… [--dry-run] [--prune]
  prune [--dry-run] [--max-unused PCT]
  recovery-point create NAME@VERSION --data-dir DIR [--note TEXT] | recovery-point list | recovery-point release ID
  unlock [--remove-all]              remove stale locks (all locks with --remove-all)
  stats                              snapshots, logical bytes, stored bytes, dedup ratio`;

const options = {
  repo: { type: 'string' },
  'passphrase-file': { type: 'string' },
  identity: { type: 'string' },
  json: { type: 'boolean' },
  recipient: { type: 'string', multiple: true },
  compression: { type: 'string' },
  level: { type: 'string' },
  'chunk-min': { type: 'string' },
  'chunk-avg': { type: 'string' },
  'chunk-max': { type: 'string' },
  path: { type: 'string', multiple: true },
  'data-dir': { type: 'string' },
  version: { type: 'string' },
  strategy: { type: 'string' },
  tag: { type: 'string', multiple: true },
  note: { type: 'string' },
  'read-data': { type: 'boolean' },
  'read-data-subset': { type: 'string' },
  target: { type: 'string' },
  'recovery-point': { type: 'string' },
  'keep-last': { type: 'string' },
  'keep-hourly': { type: 'string' },
  'keep-daily': { type: 'string' },
  'keep-weekly': { type: 'string' },
  'keep-monthly': { type: 'string' },
  'keep-yearly': { type: 'string' },
  'keep-within': { type: 'string' },
  'keep-tag': { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  prune: { type: 'boolean' },
  'max-unused': { type: 'string' },
  'remove-all': { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof options>>['values'];

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

function percent(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(value);
  const number = match ? Number(match[1]) : Number.NaN;
  if (!(number > 0 && number <= 100)) throw new UsageError(`${flag} must be a percentage between 0 and 100, got "${value}"`);
  return number / 100;
}

async function storageFrom(values: Values, env: NodeJS.ProcessEnv): Promise<StorageBackend> {
  const url = values.repo ?? env.TORSH_DEPOT_BACKUP_REPOSITORY;
  if (!url) throw new UsageError('--repo URL is required (or set TORSH_DEPOT_BACKUP_REPOSITORY)');
  const location = parseBlobStoreUrl(url, env);
  if (location.config.kind === 'local') await fsp.mkdir(location.config.path, { recursive: true });
  return createStorageBackend(location);
}

async function passphraseFrom(values: Values, env: NodeJS.ProcessEnv): Promise<string> {
  if (values['passphrase-file'] !== undefined) return readPassphraseFile(values['passphrase-file']);
  const fromEnv = env.TORSH_DEPOT_BACKUP_PASSPHRASE;
  if (fromEnv) return fromEnv;
  throw new UsageError('--passphrase-file FILE is required (or set TORSH_DEPOT_BACKUP_PASSPHRASE)');
}

async function openRepository(values: Values, env: NodeJS.ProcessEnv): Promise<BackupRepository> {
  const storage = await storageFrom(values, env);
  const identities = values.identity === undefined ? [] : parseAgeIdentities(await fsp.readFile(path.resolve(values.identity), 'utf8'));
  return BackupRepository.open(storage, { passphrase: await passphraseFrom(values, env), identities });
}

function print(io: CliIo, json: boolean, data: unknown, text: string): void {
  io.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
}

function summary(snapshot: Snapshot): SnapshotSummary {
  return summarizeSnapshot(snapshot);
}

function snapshotLine(snapshot: Snapshot): string {
  const tags = snapshot.tags.length > 0 ? ` [${snapshot.tags.join(', ')}]` : '';
  return `${snapshot.id.slice(0, 12)}  ${snapshot.time}  ${snapshot.strategy.padEnd(12)} ${snapshot.source.kind}:${snapshot.source.label}  ${formatBytes(snapshot.stats.logicalBytes)} (+${formatBytes(snapshot.stats.addedBytes)} new)${tags}${snapshot.note ? `  "${snapshot.note}"` : ''}`;
}

function progressReporter(io: CliIo, json: boolean): (progress: BackupProgress) => void {
  const stream = io.stderr as NodeJS.WritableStream & { isTTY?: boolean };
  let last = 0;
  return (progress) => {
    if (json || stream.isTTY !== true) return;
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    const eta = progress.etaSeconds === null ? '' : ` ETA ${Math.ceil(progress.etaSeconds)} s`;
    stream.write(`\r\x1b[2K${progress.filesDone}/${progress.filesTotal} files  ${formatBytes(progress.bytesRead)} / ${formatBytes(progress.bytesTotal)} read  ${formatBytes(progress.bytesNew)} new${eta}`);
  };
}

export async function backupCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options, { min: 1, max: 3, names: 'a subcommand' });
  const [sub, ...rest] = positionals;
  const json = values.json === true;
  const { signal } = stopController(io);
  switch (sub) {
    case 'init': {
      const storage = await storageFrom(values, io.env);
      const chunkMin = wholeNumber(values['chunk-min'], '--chunk-min');
      const chunkAvg = wholeNumber(values['chunk-avg'], '--chunk-avg');
      const chunkMax = wholeNumber(values['chunk-max'], '--chunk-max');
      const chunker = chunkMin !== undefined || chunkAvg !== undefined || chunkMax !== undefined ? { minSize: chunkMin ?? 524288, avgSize: chunkAvg ?? 1048576, maxSize: chunkMax ?? 8388608 } : undefined;
      const codec = values.compression ?? defaultCompression.codec;
      if (codec !== 'zstd' && codec !== 'brotli' && codec !== 'none') throw new UsageError('--compression must be zstd, brotli or none');
      const repo = await BackupRepository.init(storage, {
        passphrase: await passphraseFrom(values, io.env),
        ...(values.recipient ? { recipients: values.recipient } : {}),
        ...(chunker ? { chunker } : {}),
        compression: { codec, level: wholeNumber(values.level, '--level') ?? (codec === 'none' ? 0 : defaultCompression.level) },
      });
      print(io, json, { id: repo.config.id, writeOnly: repo.writeOnly, config: repo.config }, `Created backup repository ${repo.config.id} in ${storage.description}${repo.writeOnly ? ' (write-only: data sealed to the recipients)' : ''}.`);
      return exitCodes.ok;
    }
    case 'run': {
      const strategy = (values.strategy ?? 'incremental') as BackupStrategy;
      if (!backupStrategies.includes(strategy)) throw new UsageError(`--strategy must be one of ${backupStrategies.join(', ')}`);
      const repo = await openRepository(values, io.env);
      const snapshot = await backupSource(repo, values, io, strategy, values.tag ?? [], values.note ?? null, signal);
      print(io, json, summary(snapshot), `Snapshot ${snapshot.id.slice(0, 12)} saved: ${snapshot.stats.files} files, ${formatBytes(snapshot.stats.logicalBytes)}, ${formatBytes(snapshot.stats.addedBytes)} new (${formatBytes(snapshot.stats.storedBytes)} stored) in ${(snapshot.stats.durationMs / 1000).toFixed(1)} s.`);
      return exitCodes.ok;
    }
    case 'snapshots': {
      const snapshots = await (await openRepository(values, io.env)).listSnapshots();
      print(io, json, snapshots.map(summary), snapshots.length === 0 ? 'No snapshots.' : snapshots.map(snapshotLine).join('\n'));
      return exitCodes.ok;
    }
    case 'diff': {
      const [first, second] = rest;
      if (!first || !second) throw new UsageError('diff needs two snapshot ids');
      const repo = await openRepository(values, io.env);
      const a = await repo.findSnapshot(first);
      const b = await repo.findSnapshot(second);
      const result = diffSnapshots(a, b);
      print(io, json, result, [...result.added.map((name) => `+ ${name}`), ...result.removed.map((name) => `- ${name}`), ...result.changed.map((name) => `M ${name}`), `${result.newChunks} chunks in ${b.id.slice(0, 12)} are not in ${a.id.slice(0, 12)}`].join('\n'));
      return exitCodes.ok;
    }
    case 'verify': {
      const repo = await openRepository(values, io.env);
      const fraction = values['read-data'] ? 1 : values['read-data-subset'] !== undefined ? percent(values['read-data-subset'], '--read-data-subset') : 0;
      const report = await runVerify(repo, { readDataFraction: fraction, signal });
      const lines = [
        `${report.snapshots} snapshots, ${report.packs} packs, ${report.chunks} chunks; ${report.packsRead} packs read (${formatBytes(report.bytesRead)}).`,
        ...report.problems.map((problem) => `problem: ${problem.message}`),
        ...(report.damagedPacks.length > 0 ? [`damaged packs: ${report.damagedPacks.join(', ')}`] : []),
        ...(report.affectedSnapshots.length > 0 ? [`affected snapshots: ${report.affectedSnapshots.join(', ')}`] : []),
        report.ok ? 'No errors were found.' : 'The repository has errors.',
      ];
      print(io, json, report, lines.join('\n'));
      return report.ok ? exitCodes.ok : exitCodes.failure;
    }
    case 'restore': {
      if (values.target === undefined) throw new UsageError('--target DIR is required');
      const id = values['recovery-point'] ?? rest[0];
      if (!id) throw new UsageError('restore needs a snapshot id or --recovery-point ID');
      const repo = await openRepository(values, io.env);
      const snapshot = await repo.findSnapshot(id);
      if (values['recovery-point'] !== undefined && !snapshot.tags.includes(recoveryPointTag)) throw new UsageError(`${id} is not a recovery point`);
      const result = await runRestore(repo, { snapshot, targetDir: path.resolve(values.target), ...(values.path ? { paths: values.path } : {}), signal });
      print(io, json, { snapshot: snapshot.id, ...result }, `Restored ${result.files.length} files (${formatBytes(result.bytes)}) of ${snapshot.id.slice(0, 12)} into ${values.target}; every file's SHA-256 was checked.`);
      return exitCodes.ok;
    }
    case 'forget': {
      const policy: RetentionPolicy = {};
      const rules = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
      for (const rule of rules) {
        const count = wholeNumber(values[`keep-${rule}`], `--keep-${rule}`);
        if (count !== undefined) policy[rule] = count;
      }
      if (values['keep-within'] !== undefined) policy.within = values['keep-within'];
      if (values['keep-tag']) policy.tags = values['keep-tag'];
      const repo = await openRepository(values, io.env);
      const dryRun = values['dry-run'] === true;
      const groups = await runForget(repo, { policy, dryRun });
      const prune = values.prune === true && !dryRun ? await runPrune(repo, { signal }) : null;
      const data = retentionGroupsView(groups);
      const lines = data.flatMap((group) => [
        `${group.group}: keep ${group.keep.length}, ${dryRun ? 'would remove' : 'removed'} ${group.remove.length}`,
        ...group.keep.map((entry) => `  keep    ${entry.id.slice(0, 12)} ${entry.time}  ${entry.reasons.join(', ')}`),
        ...group.remove.map((entry) => `  ${dryRun ? 'would remove' : 'removed'} ${entry.id.slice(0, 12)} ${entry.time}`),
      ]);
      print(io, json, { dryRun, groups: data, prune }, lines.join('\n') || 'No snapshots.');
      return exitCodes.ok;
    }
    case 'prune': {
      const repo = await openRepository(values, io.env);
      const report = await runPrune(repo, { dryRun: values['dry-run'] === true, signal, ...(values['max-unused'] ? { maxUnusedFraction: percent(values['max-unused'], '--max-unused') } : {}) });
      print(io, json, report, `${report.dryRun ? 'Would delete' : 'Deleted'} ${report.packsDeleted} of ${report.packsBefore} packs (${report.packsRepacked} repacked, ${report.orphanPacks} unreferenced); ${report.chunksRemoved} chunks no snapshot needs; ${formatBytes(report.bytesFreed)} freed.`);
      return exitCodes.ok;
    }
    case 'recovery-point':
      return recoveryPointCommand(rest, values, io, json, signal);
    case 'unlock': {
      const removed = await removeLocks(await storageFrom(values, io.env), values['remove-all'] === true);
      print(io, json, { removed }, `Removed ${removed} lock${removed === 1 ? '' : 's'}.`);
      return exitCodes.ok;
    }
    case 'stats': {
      const stats = await repositoryStats(await openRepository(values, io.env));
      print(io, json, stats, `${stats.snapshots} snapshots: ${formatBytes(stats.logicalBytes)} logical, ${formatBytes(stats.uniqueBytes)} unique, ${formatBytes(stats.storedBytes)} stored in ${stats.packs} packs (ratio ${stats.dedupRatio?.toFixed(2) ?? '–'}×).`);
      return exitCodes.ok;
    }
    default:
      throw new UsageError(`unknown backup subcommand "${sub ?? ''}"`);
  }
}

async function backupSource(repo: BackupRepository, values: Values, io: CliIo, strategy: BackupStrategy, tags: string[], note: string | null, signal: AbortSignal): Promise<Snapshot> {
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'torsh-depot-backup-'));
  const onProgress = progressReporter(io, values.json === true);
  try {
    if (values.path && values.path.length > 0) {
      if (values['data-dir'] !== undefined) throw new UsageError('give either --path or --data-dir');
      const files = await collectPaths(values.path);
      return await runBackup(repo, { source: { kind: 'files', label: values.path.map((given) => path.resolve(given)).join(',') }, files, strategy, tags, note, signal, onProgress });
    }
    const dataDir = values['data-dir'];
    if (dataDir === undefined) throw new UsageError('give --path P or --data-dir DIR');
    if (values.version !== undefined) {
      const [name, version] = splitVersion(values.version);
      const source = await snapshotVersion(path.resolve(dataDir), name, version, scratch);
      return await runBackup(repo, { source: { kind: 'version', label: `${name}@${version}` }, files: source.files, strategy, tags, note, signal, onProgress });
    }
    const source = await snapshotRegistry(path.resolve(dataDir), scratch);
    return await runBackup(repo, { source: { kind: 'registry', label: path.resolve(dataDir) }, files: source.files, strategy, tags, note, signal, onProgress });
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

function splitVersion(text: string): [string, string] {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) throw new UsageError(`expected NAME@VERSION, got "${text}"`);
  return [text.slice(0, at), text.slice(at + 1)];
}

async function recoveryPointCommand(rest: string[], values: Values, io: CliIo, json: boolean, signal: AbortSignal): Promise<number> {
  const [action, argument] = rest;
  const repo = await openRepository(values, io.env);
  if (action === 'create') {
    if (!argument) throw new UsageError('recovery-point create needs NAME@VERSION');
    const snapshot = await backupSource(repo, { ...values, version: argument, path: undefined }, io, 'incremental', [recoveryPointTag, ...(values.tag ?? [])], values.note ?? null, signal);
    print(io, json, summary(snapshot), `Recovery point ${snapshot.id.slice(0, 12)} created for ${argument}; it is kept until released.`);
    return exitCodes.ok;
  }
  if (action === 'list') {
    const points = (await repo.listSnapshots()).filter((snapshot) => snapshot.tags.includes(recoveryPointTag));
    print(io, json, points.map(summary), points.length === 0 ? 'No recovery points.' : points.map(snapshotLine).join('\n'));
    return exitCodes.ok;
  }
  if (action === 'release') {
    if (!argument) throw new UsageError('recovery-point release needs an id');
    const released = await releaseRecoveryPointSnapshot(repo, argument);
    print(io, json, summary(released), `Released: the snapshot is now ${released.id.slice(0, 12)}, subject to retention like any other.`);
    return exitCodes.ok;
  }
  throw new UsageError('recovery-point needs create, list or release');
}
