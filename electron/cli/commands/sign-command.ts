import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../services/fs/atomic-write';
import { formatKeyId } from '../../services/signing/ed25519-keys';
import { signFile } from '../../services/signing/file-signature';
import { decodeSecretKeyFile, secretKeyNeedsPassphrase } from '../../services/signing/secret-key-file';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { parseCommandArgs, stopController } from './command-options';
import { keyPassphrase, passphraseEnvVariable } from './passphrase-input';

export const signUsage = `Usage: torsh-depot sign <file> --key <prefix>.key [-o <sigfile>]

Signs a file (usually a .torshpkg) with a minisign-compatible pre-hashed Ed25519 signature.
For a package the trusted comment states its name, version and SHA-256.
  --key FILE               the secret key from torsh-depot keygen
  -o, --output FILE        the signature file (default: <file>.minisig)
  --passphrase-file FILE   the key's passphrase (default: $${passphraseEnvVariable})

Verify with: torsh-depot verify <file> --pubkey <prefix>.pub, or minisign -V -H -m <file> -p <prefix>.pub`;

/** Loads and unlocks a secret key file for the CLI. */
export async function loadSecretKey(keyFile: string, passphraseFile: string | undefined, env: NodeJS.ProcessEnv) {
  const text = await fsp.readFile(path.resolve(keyFile), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read the key file ${keyFile}: ${error.code ?? error.message}`);
  });
  const passphrase = secretKeyNeedsPassphrase(text) ? await keyPassphrase(passphraseFile, env) : null;
  return decodeSecretKeyFile(text, passphrase);
}

export async function signCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { key: { type: 'string' }, output: { type: 'string', short: 'o' }, 'passphrase-file': { type: 'string' } },
    { min: 1, max: 1, names: 'the file to sign' },
  );
  if (values.key === undefined) throw new UsageError('--key FILE is required');
  const file = path.resolve(positionals[0] ?? '');
  if (!(await fsp.stat(file).catch(() => null))?.isFile()) throw new UsageError(`${file} is not a file`);
  const pair = await loadSecretKey(values.key, values['passphrase-file'], io.env);
  const signature = await signFile(file, pair, { signal: stopController(io).signal });
  const output = path.resolve(values.output ?? `${file}.minisig`);
  await writeFileAtomic(output, signature);
  io.stdout.write(`signed ${file} with key ${formatKeyId(pair.keyId)}: ${output}\n`);
  return exitCodes.ok;
}
