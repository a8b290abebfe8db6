import { scrypt } from 'node:crypto';
import { DepotError } from '../../../shared/errors';

export interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

/**
 * 2^14 × r=8 × p=5: one of OWASP's equivalents of 2^17/r=8/p=1 in guessing cost, with 16 MiB instead of
 * 128 MiB of memory, so a whole encrypt or decrypt stays within the 100 MiB resident-memory budget.
 */
export const defaultScryptParams: ScryptParams = { log2N: 14, r: 8, p: 5 };

/** Files come from strangers: refuse work factors that would eat more than 1 GiB or minutes of CPU. */
const maxLog2N = 20;
/** scrypt's memory is 128·N·r bytes: at most 1 GiB (2^20 with r = 8, age's own largest common setting). */
export const maxScryptMemoryBytes = 1024 ** 3;
/** scrypt's time grows with N·r·p: at most 2^23, what 1 GiB at p = 1 costs (a few seconds here). */
export const maxScryptWork = 2 ** 23;

/**
 * Checked before deriving (decrypt) and when a publisher's encrypted file is stored (publish): a header's
 * fields are in range (`bad-kdf-params`), and their memory and work stay under the caps (`kdf-too-costly`).
 */
export function assertScryptParams(params: ScryptParams): void {
  const integers = [params.log2N, params.r, params.p].every((value) => Number.isInteger(value));
  if (!integers || params.log2N < 10 || params.log2N > maxLog2N || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) {
    throw new DepotError('VALIDATION_FAILED', `Unsupported scrypt parameters (2^${params.log2N}, r=${params.r}, p=${params.p}).`, { reason: 'bad-kdf-params' });
  }
  const memory = 128 * 2 ** params.log2N * params.r;
  const work = 2 ** params.log2N * params.r * params.p;
  if (memory > maxScryptMemoryBytes || work > maxScryptWork) {
    throw new DepotError(
      'VALIDATION_FAILED',
      `The scrypt parameters (2^${params.log2N}, r=${params.r}, p=${params.p}) need ${Math.ceil(memory / 1024 ** 2)} MiB and N·r·p = ${work}: above the limits of ${maxScryptMemoryBytes / 1024 ** 2} MiB and N·r·p ≤ 2^23.`,
      { reason: 'kdf-too-costly' },
    );
  }
}

/** scrypt on libuv's thread pool (never blocks the event loop), with enough `maxmem` for the parameters. */
export function scryptKey(passphrase: Buffer | string, salt: Buffer, params: ScryptParams, length = 32): Promise<Buffer> {
  assertScryptParams(params);
  const N = 2 ** params.log2N;
  const maxmem = 128 * N * params.r + 128 * params.r * params.p + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, length, { N, r: params.r, p: params.p, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
