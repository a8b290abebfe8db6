// Sign and verify a BENCH_SIZE_MIB package (default 1 GiB) with our minisign-compatible pre-hashed
// Ed25519 signatures, against `b2sum` (coreutils BLAKE2b-512) of the same file, page cache warm.
// Signing hashes the file once (BLAKE2b-512 for the signature, SHA-256 for the trusted comment), and so
// does verifying. Target from the issue: sign + verify ≤ 1.2 × b2sum. Rounds alternate; medians compared.
import os from 'node:os';
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
  try {
    const pkg = await ensureBigPackage(process.env.BENCH_WORK_DIR ?? os.tmpdir(), sizeMiB);
    const pair = generateSigningKeyPair();
    // Warm the page cache so neither side pays for the disk.
    await timedCommand(group, 'b2sum', [pkg.file]);
    const seconds = { b2sum: [] as number[], sign: [] as number[], verify: [] as number[] };
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
      log(`round ${round + 1}: b2sum ${seconds.b2sum.at(-1)?.toFixed(2)} s, sign ${seconds.sign.at(-1)?.toFixed(2)} s, verify ${seconds.verify.at(-1)?.toFixed(2)} s`);
    }
    const b2sum = median(seconds.b2sum);
    const sign = median(seconds.sign);
    const verify = median(seconds.verify);
    const both = ratioOf(sign + verify, b2sum);
    writeRows(
      [
        { benchmark: `sign + verify ${sizeMiB} MiB`, ours: sign + verify, unit: 's', peerLabel: 'b2sum', peer: b2sum, ratio: both, target: `≤ ${target}`, pass: both === null ? null : both <= target },
        { benchmark: `sign ${sizeMiB} MiB`, ours: sign, unit: 's', peerLabel: 'b2sum', peer: b2sum, ratio: ratioOf(sign, b2sum), target: '—', pass: null },
        { benchmark: `verify ${sizeMiB} MiB`, ours: verify, unit: 's', peerLabel: 'b2sum', peer: b2sum, ratio: ratioOf(verify, b2sum), target: '—', pass: null },
      ],
      `Rounds (s): b2sum ${seconds.b2sum.map((value) => value.toFixed(2)).join(', ')}; sign ${seconds.sign.map((value) => value.toFixed(2)).join(', ')}; verify ${seconds.verify.map((value) => value.toFixed(2)).join(', ')}.`,
    );
  } finally {
    await group.stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
