// AES-256-GCM encryption and decryption (our segmented stream format) of a BENCH_SIZE_MIB file (default
// 1 GiB), each in its own process whose peak RSS is read back, against `age` (ChaCha20-Poly1305, X25519
// recipient) encrypting the same file in the same run, and as a fraction of `openssl speed -evp aes-256-gcm`
// (16 KiB blocks, in memory: the ceiling of the cipher alone). Targets: ≥ 1.0 × age; peak RSS ≤ 100 MiB.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PackageEncryptor } from '../electron/services/encryption/package-encryptor';
import { ensureBigPackage } from './support/big-package';
import { ProcessGroup } from './support/processes';
import { envNumber, log, ratioOf, writeRows } from './support/report';
import { median, timedCommand } from './support/timed-command';

const sizeMiB = envNumber('BENCH_SIZE_MIB', 1024);
const rounds = envNumber('BENCH_ENCRYPTION_ROUNDS', 3);
const rssLimitMiB = 100;
const passphrase = 'bench passphrase, not a secret';

/** Child mode: one encrypt or decrypt, then its time and peak RSS on stdout. */
async function child(operation: string, input: string, output: string): Promise<void> {
  const encryptor = new PackageEncryptor();
  const started = performance.now();
  if (operation === 'encrypt') await encryptor.encryptFile(input, output, { passphrase });
  else await encryptor.decryptFile(input, output, { passphrase });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
}

async function runChild(group: ProcessGroup, operation: 'encrypt' | 'decrypt', input: string, output: string): Promise<{ seconds: number; maxRss: number }> {
  rmSync(output, { force: true });
  const { stdout } = await timedCommand(group, process.execPath, [__filename, 'child', operation, input, output]);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { seconds: number; maxRss: number };
}

function opensslAesGcmBytesPerSecond(): number | null {
  try {
    const text = execFileSync('openssl', ['speed', '-evp', 'aes-256-gcm', '-bytes', '16384', '-seconds', '3'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const match = /^aes-256-gcm\s+([\d.]+)k\s*$/im.exec(text);
    return match?.[1] ? Number(match[1]) * 1000 : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const group = new ProcessGroup();
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'encryption-'));
  try {
    const pkg = await ensureBigPackage(base, sizeMiB);
    const bytes = pkg.size;
    const identity = path.join(dir, 'identity.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
    const encrypted = path.join(dir, 'package.enc');
    const decrypted = path.join(dir, 'package.out');
    const byAge = path.join(dir, 'package.age');
    const cliRssFile = path.join(dir, 'cli-rss');
    const passFile = path.join(dir, 'pass.txt');
    writeFileSync(passFile, `${passphrase}\n`);
    execFileSync('cat', [pkg.file], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache

    const seconds = { encrypt: [] as number[], decrypt: [] as number[], age: [] as number[] };
    const rss = { encrypt: 0, decrypt: 0 };
    for (let round = 0; round < rounds; round += 1) {
      rmSync(byAge, { force: true });
      // Ours fsyncs its output before the rename (atomic, durable); age does not, so it gets a `sync FILE` (fsync) too.
      seconds.age.push((await timedCommand(group, 'sh', ['-c', 'age -r "$1" -o "$2" "$3" && sync "$2"', 'sh', recipient, byAge, pkg.file])).seconds);
      const encryptRun = await runChild(group, 'encrypt', pkg.file, encrypted);
      const decryptRun = await runChild(group, 'decrypt', encrypted, decrypted);
      seconds.encrypt.push(encryptRun.seconds);
      seconds.decrypt.push(decryptRun.seconds);
      rss.encrypt = Math.max(rss.encrypt, encryptRun.maxRss);
      rss.decrypt = Math.max(rss.decrypt, decryptRun.maxRss);
      log(`round ${round + 1}: age ${seconds.age.at(-1)?.toFixed(2)} s, encrypt ${encryptRun.seconds.toFixed(2)} s, decrypt ${decryptRun.seconds.toFixed(2)} s`);
    }
    if (statSync(decrypted).size !== bytes) throw new Error('the decrypted file has the wrong size');
    // The CLI carries its own start-up footprint (zod, better-sqlite3…): reported for information.
    const root = process.env.BENCH_PROJECT_ROOT ?? process.cwd();
    rmSync(encrypted, { force: true });
    await timedCommand(group, process.execPath, [path.join(root, 'bin', 'torsh-depot.cjs'), 'encrypt', pkg.file, '-o', encrypted, '--passphrase-file', passFile], {
      ...process.env,
      NODE_OPTIONS: `--import ${path.join(root, 'test', 'support', 'max-rss-preload.mjs')}`,
      TORSH_DEPOT_MAX_RSS_FILE: cliRssFile,
    });
    const cliRss = Number(readFileSync(cliRssFile, 'utf8'));
    const openssl = opensslAesGcmBytesPerSecond();

    const mbps = (secondsTaken: number): number => bytes / secondsTaken / 1e6;
    const ageRate = mbps(median(seconds.age));
    const encryptRate = mbps(median(seconds.encrypt));
    const decryptRate = mbps(median(seconds.decrypt));
    const mib = (value: number): number => value / 1024 / 1024;
    const opensslRate = openssl === null ? null : openssl / 1e6;
    writeRows(
      [
        { benchmark: `AES-256-GCM encrypt ${sizeMiB} MiB`, ours: encryptRate, unit: 'MB/s', peerLabel: 'age -r + fsync', peer: ageRate, ratio: ratioOf(encryptRate, ageRate), target: '≥ 1.0', pass: encryptRate >= ageRate },
        { benchmark: `AES-256-GCM decrypt ${sizeMiB} MiB`, ours: decryptRate, unit: 'MB/s', peerLabel: 'age -r + fsync (encrypt)', peer: ageRate, ratio: ratioOf(decryptRate, ageRate), target: '≥ 1.0', pass: decryptRate >= ageRate },
        { benchmark: 'AES-256-GCM encrypt vs cipher ceiling', ours: encryptRate, unit: 'MB/s', peerLabel: 'openssl speed, 16 KiB', peer: opensslRate, ratio: ratioOf(encryptRate, opensslRate), target: '—', pass: null },
        { benchmark: 'peak RSS, encrypt', ours: mib(rss.encrypt), unit: 'MiB', peerLabel: '', peer: null, ratio: null, target: `≤ ${rssLimitMiB}`, pass: mib(rss.encrypt) <= rssLimitMiB },
        { benchmark: 'peak RSS, decrypt', ours: mib(rss.decrypt), unit: 'MiB', peerLabel: '', peer: null, ratio: null, target: `≤ ${rssLimitMiB}`, pass: mib(rss.decrypt) <= rssLimitMiB },
        {
          benchmark: 'peak RSS, `torsh-depot encrypt`',
          ours: mib(cliRss),
          unit: 'MiB',
          peerLabel: '',
          peer: null,
          ratio: null,
          target: `≤ ${rssLimitMiB}`,
          pass: mib(cliRss) <= rssLimitMiB,
          note: 'the whole CLI process, whose start-up alone (zod, better-sqlite3, every command; the cloud SDKs load only when used) takes ~68 MiB',
        },
      ],
      `Rounds (s): age ${seconds.age.map((value) => value.toFixed(2)).join(', ')}; encrypt ${seconds.encrypt.map((value) => value.toFixed(2)).join(', ')}; decrypt ${seconds.decrypt.map((value) => value.toFixed(2)).join(', ')}. Files are read from the page cache and written to ${base}.`,
    );
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') {
  child(process.argv[3] ?? '', process.argv[4] ?? '', process.argv[5] ?? '').catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
