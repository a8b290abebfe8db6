// Sign and verify a BENCH_SIZE_MIB package (default 1 GiB) with our minisign-compatible pre-hashed
// Ed25519 signatures, against `b2sum` (coreutils BLAKE2b-512) of the same file, page cache warm; `minisign`
// itself signing and verifying the same file is measured alongside for reference.
// Each operation must hash the whole file once (that is what a pre-hashed signature is), so the floor for
// "sign + verify" is two b2sum runs: the target ≤ 1.2 is ours against that, and each operation against one.
// Rounds alternate; medians compared.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSigningKeyPair } from '../electron/services/signing/ed25519-keys';
import { checkSignature, digestFileForSigning, signFile } from '../electron/services/signing/file-signature';
import { ensureBigPackage } from './support/big-package';
import { ProcessGroup } from './support/processes';
import { envNumber, log, ratioOf, writeRows } from './support/report';
import { median, timedCommand } from './support/timed-command';

const sizeMiB = envNumber('BENCH_SIZE_MIB', 1024);
const rounds = envNumber('BENCH_SIGNING_ROUNDS', 3);
const target = 1.2;

async function main(): Promise<void> {
  const group = new ProcessGroup();
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'signing-'));
  try {
    const pkg = await ensureBigPackage(base, sizeMiB);
    const pair = generateSigningKeyPair();
    const minisignKey = { secret: path.join(dir, 'minisign.key'), public: path.join(dir, 'minisign.pub'), signature: path.join(dir, 'package.minisig') };
    execFileSync('minisign', ['-G', '-W', '-s', minisignKey.secret, '-p', minisignKey.public], { stdio: 'ignore' });
    // Warm the page cache so neither side pays for the disk.
    await timedCommand(group, 'b2sum', [pkg.file]);
    const seconds = { b2sum: [] as number[], sign: [] as number[], verify: [] as number[], minisignSign: [] as number[], minisignVerify: [] as number[] };
    for (let round = 0; round < rounds; round += 1) {
      seconds.b2sum.push((await timedCommand(group, 'b2sum', [pkg.file])).seconds);
      let started = performance.now();
      const signature = await signFile(pkg.file, pair);
      seconds.sign.push((performance.now() - started) / 1000);
      started = performance.now();
      const digests = await digestFileForSigning(pkg.file);
      const check = checkSignature(signature, [pair], digests, { name: pkg.name, version: pkg.version, sha256: pkg.digest, strict: true });
      seconds.verify.push((performance.now() - started) / 1000);
      if (!check.valid) throw new Error(`our own signature did not verify: ${check.message}`);
      seconds.minisignSign.push((await timedCommand(group, 'minisign', ['-S', '-s', minisignKey.secret, '-m', pkg.file, '-x', minisignKey.signature])).seconds);
      seconds.minisignVerify.push((await timedCommand(group, 'minisign', ['-V', '-q', '-p', minisignKey.public, '-m', pkg.file, '-x', minisignKey.signature])).seconds);
      log(
        `round ${round + 1}: b2sum ${seconds.b2sum.at(-1)?.toFixed(2)} s, sign ${seconds.sign.at(-1)?.toFixed(2)} s, verify ${seconds.verify.at(-1)?.toFixed(2)} s, ` +
          `minisign -S ${seconds.minisignSign.at(-1)?.toFixed(2)} s, -V ${seconds.minisignVerify.at(-1)?.toFixed(2)} s`,
      );
    }
    const b2sum = median(seconds.b2sum);
    const sign = median(seconds.sign);
    const verify = median(seconds.verify);
    const minisign = median(seconds.minisignSign) + median(seconds.minisignVerify);
    const both = ratioOf(sign + verify, 2 * b2sum);
    const signRatio = ratioOf(sign, b2sum);
    const verifyRatio = ratioOf(verify, b2sum);
    const passes = (ratio: number | null): boolean | null => (ratio === null ? null : ratio <= target);
    const rows = [
      { benchmark: `sign + verify ${sizeMiB} MiB`, ours: sign + verify, unit: 's', peerLabel: 'b2sum × 2 (one hash per operation)', peer: 2 * b2sum, ratio: both, target: `≤ ${target}`, pass: passes(both) },
      { benchmark: `sign ${sizeMiB} MiB`, ours: sign, unit: 's', peerLabel: 'b2sum', peer: b2sum, ratio: signRatio, target: `≤ ${target}`, pass: passes(signRatio) },
      { benchmark: `verify ${sizeMiB} MiB`, ours: verify, unit: 's', peerLabel: 'b2sum', peer: b2sum, ratio: verifyRatio, target: `≤ ${target}`, pass: passes(verifyRatio) },
      { benchmark: `sign + verify ${sizeMiB} MiB`, ours: sign + verify, unit: 's', peerLabel: 'minisign -S + minisign -V', peer: minisign, ratio: ratioOf(sign + verify, minisign), target: '—', pass: null },
    ];
    const list = (values: number[]): string => values.map((value) => value.toFixed(2)).join(', ');
    writeRows(
      rows,
      `Rounds (s): b2sum ${list(seconds.b2sum)}; sign ${list(seconds.sign)}; verify ${list(seconds.verify)}; minisign -S ${list(seconds.minisignSign)}; minisign -V ${list(seconds.minisignVerify)}.`,
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
