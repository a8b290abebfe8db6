// Issue 19, item 4: which BLAKE2b-512 implementation signing uses. Today's is OpenSSL through node:crypto
// (electron/services/fs/file-digests.ts); the candidate is libsodium's `crypto_generichash` through
// sodium-native, the prehash minisign itself uses. Both hash the same file with the same 1 MiB synchronous
// reads on this thread, alternating round by round; the digests must be equal. Ratio = sodium time ÷
// OpenSSL time: ≥ 1 means today's choice is the faster one and stays.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { envNumber, log, writeRows } from './support/report';
import { median } from './support/timed-command';

/** The part of sodium-native's API this benchmark calls (the package ships no types). */
interface SodiumGenericHash {
  crypto_generichash_STATEBYTES: number;
  crypto_generichash_init(state: Buffer, key: Buffer | null, outputLength: number): void;
  crypto_generichash_update(state: Buffer, input: Buffer): void;
  crypto_generichash_final(state: Buffer, output: Buffer): void;
}

interface Hasher {
  update(chunk: Buffer): void;
  digest(): Buffer;
}

function openssl(): Hasher {
  const hash = createHash('blake2b512');
  return { update: (chunk) => void hash.update(chunk), digest: () => hash.digest() };
}

function libsodium(sodium: SodiumGenericHash): Hasher {
  const state = Buffer.alloc(sodium.crypto_generichash_STATEBYTES);
  sodium.crypto_generichash_init(state, null, 64);
  return {
    update: (chunk) => sodium.crypto_generichash_update(state, chunk),
    digest: () => {
      const out = Buffer.alloc(64);
      sodium.crypto_generichash_final(state, out);
      return out;
    },
  };
}

function hashFile(file: string, hasher: Hasher): { seconds: number; digest: Buffer } {
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const started = performance.now();
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hasher.update(read === buffer.length ? buffer : buffer.subarray(0, read));
    }
  } finally {
    closeSync(fd);
  }
  const digest = hasher.digest();
  return { seconds: (performance.now() - started) / 1000, digest };
}

function main(): void {
  const sizeMiB = envNumber('BENCH_SIZE_MIB', 1024);
  const rounds = envNumber('BENCH_BLAKE2B_ROUNDS', 5);
  const sodium = createRequire(__filename)('sodium-native') as SodiumGenericHash;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'torsh-blake2b-'));
  try {
    const file = path.join(dir, 'data.bin');
    const fd = openSync(file, 'w');
    const block = randomBytes(8 * 1024 * 1024);
    for (let written = 0; written < sizeMiB * 1024 * 1024; written += block.length) writeSync(fd, block);
    closeSync(fd);
    hashFile(file, openssl()); // warm the page cache
    const seconds = { openssl: [] as number[], sodium: [] as number[] };
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? (['openssl', 'sodium'] as const) : (['sodium', 'openssl'] as const);
      const digests: Buffer[] = [];
      for (const side of order) {
        const result = hashFile(file, side === 'openssl' ? openssl() : libsodium(sodium));
        seconds[side].push(result.seconds);
        digests.push(result.digest);
      }
      if (!(digests[0] as Buffer).equals(digests[1] as Buffer)) throw new Error('OpenSSL and libsodium disagree on the BLAKE2b-512 digest');
      log(`round ${round + 1}: OpenSSL ${seconds.openssl.at(-1)?.toFixed(2)} s, libsodium ${seconds.sodium.at(-1)?.toFixed(2)} s`);
    }
    const ours = median(seconds.openssl);
    const peer = median(seconds.sodium);
    const list = (values: number[]): string => values.map((value) => value.toFixed(2)).join(', ');
    writeRows(
      [
        {
          benchmark: `BLAKE2b-512 ${sizeMiB} MiB (signing prehash)`,
          ours,
          unit: 's',
          peerLabel: 'sodium-native crypto_generichash',
          peer,
          ratio: peer / ours,
          target: '≥ 1 keeps OpenSSL',
          pass: peer / ours >= 1,
          oursSeconds: ours,
          peerSeconds: peer,
          targetRatio: 1,
        },
      ],
      `Rounds (s): OpenSSL (node:crypto) ${list(seconds.openssl)}; libsodium (sodium-native 5.1.0) ${list(seconds.sodium)}.`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
