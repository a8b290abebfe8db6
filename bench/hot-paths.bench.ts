// Issue 19's hot paths, each a whole `torsh-depot …` process (or curl against a running `serve`) against
// the tool a user would pick, as a process, on the same BENCH_SIZE_MIB input (default 1 GiB), page cache
// warm, rounds alternating (BENCH_ROUNDS, default 3), medians compared, every output checked after its
// timing. Where we fsync our output (atomic writes), the peer gets a `sync FILE` so both promise the same.
// `npm run bench -- --only hot-paths`; BENCH_HOT_PATHS=publish,pack,… runs a subset.
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBigPackage, type BigPackage } from './support/big-package';
import { ProcessGroup, procStatusKiB } from './support/processes';
import { envNumber, log, writeRows, type BenchRow } from './support/report';
import { httpStatus, projectRoot, startNginx, startServe, startServeWithPackage, type RunningServer } from './support/servers';
import { compare, comparisonRows, shell, type Side } from './support/versus';

const sizeMiB = envNumber('BENCH_SIZE_MIB', 1024);
const rounds = envNumber('BENCH_ROUNDS', 3);
const adminKey = 'bench-admin-key-0123456789abcdef';
const cli = path.join(projectRoot, 'bin', 'torsh-depot.cjs');
const selected = (process.env.BENCH_HOT_PATHS ?? 'publish,pack,sign,encrypt,age,pull').split(',');
const MiB = 1024 * 1024;

/** `torsh-depot ARGS` as a whole process. */
function torsh(label: string, args: string[], extra: Omit<Side, 'label' | 'command' | 'args'> = {}): Side {
  return { label, command: process.execPath, args: [cli, ...args], ...extra };
}

function sameBytes(a: string, b: string): void {
  execFileSync('cmp', ['-s', a, b]);
}

function sameSize(file: string, size: number): void {
  const actual = statSync(file).size;
  if (actual !== size) throw new Error(`${file} holds ${actual} bytes, expected ${size}`);
}

/** CPU seconds (user + system) a running process has used, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function atLeast(file: string, size: number): void {
  const actual = statSync(file).size;
  if (actual < size) throw new Error(`${file} holds ${actual} bytes, expected at least ${size}`);
}

function peakRssMiB(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const rssFile = path.join(os.tmpdir(), `torsh-depot-bench-rss-${process.pid}`);
  execFileSync(command, args, { stdio: 'ignore', env: { ...env, NODE_OPTIONS: `--import ${path.join(projectRoot, 'test', 'support', 'max-rss-preload.mjs')}`, TORSH_DEPOT_MAX_RSS_FILE: rssFile } });
  const bytes = Number(readFileSync(rssFile, 'utf8'));
  rmSync(rssFile, { force: true });
  return bytes / MiB;
}

async function publish(group: ProcessGroup, dir: string, pkg: BigPackage): Promise<BenchRow[]> {
  const nginx = await startNginx(group, path.join(dir, 'nginx'));
  const stored = path.join(nginx.www, 'upload', path.basename(pkg.file));
  let serve: RunningServer | null = null;
  let peakMiB = 0;
  const serveCpu: number[] = [];
  let serveCpuBefore = 0;
  const answer = path.join(dir, 'publish-answer.json');
  const put = ['-sSf', '-H', 'Expect:', '-H', 'Content-Type: application/octet-stream', '-T', pkg.file];
  try {
    const ours: Side = {
      label: 'curl -T to serve',
      command: 'curl',
      args: [],
      // A fresh host each round (untimed): a version is published once.
      before: async () => {
        if (serve) await serve.stop();
        const dataDir = path.join(dir, 'data');
        rmSync(dataDir, { recursive: true, force: true });
        mkdirSync(dataDir);
        serve = await startServe(group, dataDir, { TORSH_DEPOT_ADMIN_KEY: adminKey });
        // Let its start-up jobs (data folder checks, blob GC) finish before the timed upload.
        await httpStatus(`${serve.origin}/api/v1/health`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        serveCpuBefore = cpuSecondsOf(serve.pid);
        ours.args = [...put, '-H', `Authorization: Bearer ${adminKey}`, '-o', answer, `${serve.origin}/api/v1/packages/${pkg.name}/${pkg.version}`];
      },
      check: () => {
        if (!readFileSync(answer, 'utf8').includes(pkg.digest.replace(/^sha256:/, ''))) throw new Error(`the publish answer does not name the digest: ${readFileSync(answer, 'utf8').slice(0, 300)}`);
        if (serve) {
          peakMiB = Math.max(peakMiB, procStatusKiB(serve.pid, 'VmHWM') / 1024);
          serveCpu.push(cpuSecondsOf(serve.pid) - serveCpuBefore);
        }
      },
    };
    const checkStored = (last: boolean): void => (last ? sameBytes(stored, pkg.file) : sameSize(stored, pkg.size));
    const result = await compare(
      group,
      {
        name: `publish ${sizeMiB} MiB over HTTP (received, hashed, checked, fsynced)`,
        ours,
        peer: shell('nginx WebDAV PUT + sync of the stored file', 'curl "${@:3}" "$1" && sync "$2"', [`${nginx.origin}/upload/${path.basename(pkg.file)}`, stored, ...put], {
          before: () => rmSync(stored, { force: true }),
          check: checkStored,
        }),
        alsoShown: [
          shell('nginx WebDAV PUT, bare (bytes left in the page cache)', 'curl "${@:2}" "$1"', [`${nginx.origin}/upload/${path.basename(pkg.file)}`, ...put], {
            before: () => rmSync(stored, { force: true }),
            check: checkStored,
          }),
        ],
        target: 0.5,
      },
      rounds,
    );
    return [
      ...comparisonRows(result, `serve's own CPU per publish (user + system): ${serveCpu.map((value) => value.toFixed(2)).join(', ')} s`),
      {
        benchmark: `serve peak RSS (VmHWM) over ${rounds} publishes of ${sizeMiB} MiB`,
        ours: peakMiB,
        unit: 'MiB',
        peerLabel: '',
        peer: null,
        ratio: null,
        target: '≤ 200 MiB',
        pass: peakMiB <= 200,
      },
    ];
  } finally {
    const running = serve as RunningServer | null;
    if (running) await running.stop();
    await nginx.stop();
  }
}

/** The folder `pack` and `zip -0 -r` both read: one big weights file and a few small ones. */
function packFolder(dir: string): string {
  const folder = path.join(dir, 'folder');
  mkdirSync(path.join(folder, 'models'), { recursive: true });
  mkdirSync(path.join(folder, 'config'), { recursive: true });
  mkdirSync(path.join(folder, 'docs'), { recursive: true });
  const fd = openSync(path.join(folder, 'models', 'weights.pt'), 'w');
  const chunk = Buffer.allocUnsafe(4 * MiB);
  for (let written = 0; written < sizeMiB * MiB; written += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, sizeMiB * MiB - written));
  }
  closeSync(fd);
  writeFileSync(path.join(folder, 'config', 'model.json'), JSON.stringify({ layers: 48, hidden: 4096 }));
  writeFileSync(path.join(folder, 'docs', 'README.md'), '# Benchmark model\n');
  return folder;
}

async function pack(group: ProcessGroup, dir: string): Promise<BenchRow[]> {
  const folder = packFolder(dir);
  const ours = path.join(dir, 'packed.torshpkg');
  const peer = path.join(dir, 'packed.zip');
  const unzipTest = (file: string): void => {
    execFileSync('unzip', ['-tqq', file], { stdio: 'ignore' });
  };
  const result = await compare(
    group,
    {
      name: `pack a ${sizeMiB} MiB folder`,
      ours: torsh('torsh-depot pack', ['pack', folder, '--name', 'bench-pack', '--version', '1.0.0', '-o', ours], {
        before: () => rmSync(ours, { force: true }),
        check: (last) => (last ? unzipTest(ours) : atLeast(ours, sizeMiB * MiB)),
      }),
      peer: shell('zip -0 -r + sync', 'cd "$1" && zip -q -0 -r "$2" . && sync "$2"', [folder, peer], {
        before: () => rmSync(peer, { force: true }),
        check: (last) => (last ? unzipTest(peer) : undefined),
      }),
      target: 1.0,
    },
    rounds,
  );
  rmSync(folder, { recursive: true, force: true });
  rmSync(peer, { force: true });
  rmSync(ours, { force: true });
  return comparisonRows(result, 'ours fsyncs the package before its rename, so zip gets `sync FILE`');
}

async function sign(group: ProcessGroup, dir: string, pkg: BigPackage): Promise<BenchRow[]> {
  const prefix = path.join(dir, 'signer');
  execFileSync(process.execPath, [cli, 'keygen', '-o', prefix, '--no-passphrase'], { stdio: 'ignore' });
  const minisignKey = path.join(dir, 'minisign.key');
  const minisignPub = path.join(dir, 'minisign.pub');
  execFileSync('minisign', ['-G', '-W', '-s', minisignKey, '-p', minisignPub], { stdio: 'ignore' });
  const ourSig = path.join(dir, 'ours.minisig');
  const peerSig = path.join(dir, 'peer.minisig');
  const result = await compare(
    group,
    {
      name: `sign + verify ${sizeMiB} MiB`,
      ours: shell('torsh-depot sign && torsh-depot verify', '"$1" "$2" sign "$3" --key "$4.key" -o "$5" && "$1" "$2" verify "$3" --pubkey "$4.pub" --sig "$5" > /dev/null', [process.execPath, cli, pkg.file, prefix, ourSig], {
        before: () => rmSync(ourSig, { force: true }),
        // Our signature is minisign's own format: minisign must accept it too.
        check: (last) => (last ? void execFileSync('minisign', ['-V', '-q', '-p', `${prefix}.pub`, '-m', pkg.file, '-x', ourSig]) : undefined),
      }),
      peer: shell('minisign -S && minisign -V', 'minisign -S -s "$2" -m "$1" -x "$4" && minisign -V -q -p "$3" -m "$1" -x "$4"', [pkg.file, minisignKey, minisignPub, peerSig], {
        before: () => rmSync(peerSig, { force: true }),
      }),
      target: 1.0,
    },
    rounds,
  );
  return comparisonRows(result);
}

async function encrypt(group: ProcessGroup, dir: string, pkg: BigPackage, age: { recipient: string; identity: string }): Promise<BenchRow[]> {
  const passFile = path.join(dir, 'pass.txt');
  writeFileSync(passFile, 'bench passphrase, not a secret\n');
  const ours = path.join(dir, 'ours.torshenc');
  const peer = path.join(dir, 'peer.age');
  const plain = path.join(dir, 'plain.out');
  const result = await compare(
    group,
    {
      name: `encrypt ${sizeMiB} MiB, passphrase (AES-256-GCM)`,
      ours: torsh('torsh-depot encrypt', ['encrypt', pkg.file, '-o', ours, '--passphrase-file', passFile], {
        before: () => rmSync(ours, { force: true }),
        check: (last) => {
          if (!last) return atLeast(ours, pkg.size);
          execFileSync(process.execPath, [cli, 'decrypt', ours, '-o', plain, '--passphrase-file', passFile], { stdio: 'ignore' });
          sameBytes(plain, pkg.file);
          rmSync(plain);
        },
      }),
      peer: shell('age -r + sync', 'age -r "$1" -o "$2" "$3" && sync "$2"', [age.recipient, peer, pkg.file], {
        before: () => rmSync(peer, { force: true }),
        check: (last) => {
          if (!last) return;
          execFileSync('age', ['-d', '-i', age.identity, '-o', plain, peer]);
          sameBytes(plain, pkg.file);
          rmSync(plain);
        },
      }),
      target: 1.5,
    },
    rounds,
  );
  rmSync(ours, { force: true });
  rmSync(peer, { force: true });
  return comparisonRows(result, 'ours derives its key with scrypt (as age does for passphrases); age here encrypts to an X25519 recipient');
}

async function ageFormat(group: ProcessGroup, dir: string, pkg: BigPackage, age: { recipient: string; identity: string }): Promise<BenchRow[]> {
  const ours = path.join(dir, 'ours.age');
  const peer = path.join(dir, 'peer.age');
  const plain = path.join(dir, 'plain.out');
  const checkAge = (file: string) => (last: boolean) => {
    if (!last) return;
    execFileSync('age', ['-d', '-i', age.identity, '-o', plain, file]);
    sameBytes(plain, pkg.file);
    rmSync(plain);
  };
  const encrypted = await compare(
    group,
    {
      name: `age encrypt ${sizeMiB} MiB (X25519 recipient)`,
      ours: torsh('torsh-depot encrypt --recipient', ['encrypt', pkg.file, '-o', ours, '--recipient', age.recipient], { before: () => rmSync(ours, { force: true }), check: checkAge(ours) }),
      peer: shell('age -e -r + sync', 'age -e -r "$1" -o "$2" "$3" && sync "$2"', [age.recipient, peer, pkg.file], { before: () => rmSync(peer, { force: true }), check: checkAge(peer) }),
      target: 1.0,
    },
    rounds,
  );
  // Both decrypt the file age itself wrote.
  const ourPlain = path.join(dir, 'ours.plain');
  const peerPlain = path.join(dir, 'peer.plain');
  const decrypted = await compare(
    group,
    {
      name: `age decrypt ${sizeMiB} MiB (X25519 identity)`,
      ours: torsh('torsh-depot decrypt --identity', ['decrypt', peer, '-o', ourPlain, '--identity', age.identity], {
        before: () => rmSync(ourPlain, { force: true }),
        check: (last) => (last ? sameBytes(ourPlain, pkg.file) : sameSize(ourPlain, pkg.size)),
      }),
      peer: shell('age -d + sync', 'age -d -i "$1" -o "$2" "$3" && sync "$2"', [age.identity, peerPlain, peer], {
        before: () => rmSync(peerPlain, { force: true }),
        check: (last) => (last ? sameBytes(peerPlain, pkg.file) : sameSize(peerPlain, pkg.size)),
      }),
      target: 1.0,
    },
    rounds,
  );
  for (const file of [ours, peer, ourPlain, peerPlain]) rmSync(file, { force: true });
  return [...comparisonRows(encrypted), ...comparisonRows(decrypted, 'ours writes the plaintext only once it has authenticated (temp file, fsync, rename)')];
}

async function pull(group: ProcessGroup, dir: string, pkg: BigPackage): Promise<BenchRow[]> {
  const serve = await startServeWithPackage(group, path.join(dir, 'pull-data'), adminKey, pkg);
  try {
    const ours = path.join(dir, 'pulled.torshpkg');
    const peer = path.join(dir, 'curled.torshpkg');
    const digest = path.join(dir, 'curled.sha256');
    const copy = path.join(dir, 'dd.torshpkg');
    const url = `${serve.origin}/api/v1/packages/${pkg.name}/${pkg.version}/download`;
    const pullArgs = ['pull', `${pkg.name}@${pkg.version}`, '--registry', serve.origin, '--api-key', adminKey, '-o', ours];
    const oursSide = torsh('torsh-depot pull', pullArgs, {
      before: () => rmSync(ours, { force: true }),
      check: (last) => (last ? sameBytes(ours, pkg.file) : sameSize(ours, pkg.size)),
    });
    // One untimed pull: the host's blob in the page cache.
    execFileSync(process.execPath, [cli, ...pullArgs], { stdio: 'ignore' });
    const pipeline = await compare(
      group,
      {
        name: `download ${sizeMiB} MiB + verify + fsync`,
        ours: oursSide,
        peer: shell(
          'curl | tee >(openssl dgst -sha256) > f; sync f',
          'curl -sSf -H "Authorization: Bearer $4" "$1" | tee >(openssl dgst -sha256 -r > "$3") > "$2"; wait $!; sync "$2"',
          [url, peer, digest, adminKey],
          {
            before: () => rmSync(peer, { force: true }),
            check: () => {
              const hex = readFileSync(digest, 'utf8').split(' ')[0];
              if (`sha256:${hex}` !== pkg.digest) throw new Error(`openssl computed ${hex}, expected ${pkg.digest}`);
              sameSize(peer, pkg.size);
            },
          },
        ),
        target: 1.2,
      },
      rounds,
    );
    const disk = await compare(
      group,
      {
        name: `download ${sizeMiB} MiB vs the disk's own limit`,
        ours: oursSide,
        peer: shell('dd if=f of=g bs=8M conv=fsync', 'dd if="$1" of="$2" bs=8M conv=fsync status=none', [pkg.file, copy], {
          before: () => rmSync(copy, { force: true }),
          check: (last) => (last ? sameBytes(copy, pkg.file) : sameSize(copy, pkg.size)),
        }),
        target: Number((1 / 1.5).toFixed(3)),
      },
      rounds,
    );
    rmSync(ours, { force: true });
    const rss = peakRssMiB(process.execPath, [cli, ...pullArgs], process.env);
    for (const file of [ours, peer, copy]) rmSync(file, { force: true });
    return [
      ...comparisonRows(pipeline),
      ...comparisonRows(disk, 'target: within 1.5× of dd (ratio ≥ 0.667)'),
      { benchmark: `torsh-depot pull ${sizeMiB} MiB: peak RSS`, ours: rss, unit: 'MiB', peerLabel: '', peer: null, ratio: null, target: '≤ 100 MiB', pass: rss <= 100 },
    ];
  } finally {
    await serve.stop();
  }
}

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'hot-paths-'));
  chmodSync(dir, 0o755);
  const group = new ProcessGroup();
  const rows: BenchRow[] = [];
  try {
    const pkg = await ensureBigPackage(base, sizeMiB);
    execFileSync('cat', [pkg.file], { stdio: 'ignore' }); // page cache warm
    const identity = path.join(dir, 'age-identity.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    const age = { identity, recipient: execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim() };
    const steps: [string, () => Promise<BenchRow[]>][] = [
      ['publish', () => publish(group, dir, pkg)],
      ['pack', () => pack(group, dir)],
      ['sign', () => sign(group, dir, pkg)],
      ['encrypt', () => encrypt(group, dir, pkg, age)],
      ['age', () => ageFormat(group, dir, pkg, age)],
      ['pull', () => pull(group, dir, pkg)],
    ];
    for (const [name, step] of steps) {
      if (!selected.includes(name)) continue;
      log(`hot path: ${name}`);
      rows.push(...(await step()));
    }
    if (!existsSync(dir)) throw new Error('the work folder vanished');
    writeRows(rows, `${os.cpus().length} CPU cores; ${rounds} rounds per comparison, order alternating; ratio = peer time ÷ our time.`);
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`hot-paths benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
