import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { checkSignature, digestFileForSigning, packageIdentityOf } from '../../services/signing/file-signature';
import { decodePublicKey } from '../../services/signing/minisign-format';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { parseCommandArgs, stopController } from './command-options';

export const verifyUsage = `Usage: torsh-depot verify <file> --pubkey <pubfile> [--sig <sigfile>]

Verifies a minisign signature (ours or minisign's) of a file. Exit code 0: valid; 1: invalid.
  --pubkey FILE      the signer's minisign public key file
  --sig FILE         the signature (default: <file>.minisig)

When the trusted comment names a package, version or SHA-256, they must match the file.`;

async function readText(file: string, what: string): Promise<string> {
  return fsp.readFile(path.resolve(file), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${what} ${file}: ${error.code ?? error.message}`);
  });
}

export async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { pubkey: { type: 'string' }, sig: { type: 'string' } }, { min: 1, max: 1, names: 'the file to verify' });
  if (values.pubkey === undefined) throw new UsageError('--pubkey FILE is required');
  const file = path.resolve(positionals[0] ?? '');
  if (!(await fsp.stat(file).catch(() => null))?.isFile()) throw new UsageError(`${file} is not a file`);
  const publicKey = decodePublicKey(await readText(values.pubkey, 'the public key'));
  const signatureText = await readText(values.sig ?? `${file}.minisig`, 'the signature');
  const digests = await digestFileForSigning(file, stopController(io).signal);
  const identity = await packageIdentityOf(file);
  const check = checkSignature(signatureText, [publicKey], digests, { name: identity?.name ?? null, version: identity?.version ?? null, sha256: digests.sha256, strict: false });
  if (!check.valid) {
    io.stderr.write(`torsh-depot verify: invalid signature: ${check.message}\n`);
    return exitCodes.failure;
  }
  io.stdout.write(`valid signature by key ${check.keyId}\ntrusted comment: ${check.trustedComment}\n`);
  return exitCodes.ok;
}
