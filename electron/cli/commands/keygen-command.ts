import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../services/fs/atomic-write';
import { formatKeyId, generateSigningKeyPair } from '../../services/signing/ed25519-keys';
import { encodePublicKey } from '../../services/signing/minisign-format';
import { encodeSecretKeyFile } from '../../services/signing/secret-key-file';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { parseCommandArgs } from './command-options';
import { keyPassphrase, passphraseEnvVariable } from './passphrase-input';

export const keygenUsage = `Usage: torsh-depot keygen -o <prefix> [--no-passphrase]

Generates an Ed25519 signing key pair.
  -o, --output PREFIX      writes PREFIX.key (secret, 0600) and PREFIX.pub (minisign public key)
  --passphrase-file FILE   protect the secret key with the passphrase in FILE (default: $${passphraseEnvVariable})
  --no-passphrase          store the secret key unprotected (for throw-away and CI keys)

Existing files are never overwritten.`;

export async function keygenCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    { output: { type: 'string', short: 'o' }, 'no-passphrase': { type: 'boolean' }, 'passphrase-file': { type: 'string' } },
    { min: 0, max: 0, names: '' },
  );
  if (values.output === undefined) throw new UsageError('-o PREFIX is required');
  const noPassphrase = values['no-passphrase'] === true;
  if (noPassphrase && values['passphrase-file'] !== undefined) throw new UsageError('--no-passphrase and --passphrase-file exclude each other');
  const passphrase = noPassphrase ? null : await keyPassphrase(values['passphrase-file'], io.env);
  if (!noPassphrase && passphrase === null) throw new UsageError(`give --passphrase-file FILE, set ${passphraseEnvVariable}, or pass --no-passphrase`);

  const prefix = path.resolve(values.output);
  const secretFile = `${prefix}.key`;
  const publicFile = `${prefix}.pub`;
  for (const target of [secretFile, publicFile]) {
    if (await fsp.stat(target).catch(() => null)) throw new UsageError(`${target} already exists; refusing to overwrite a key`);
  }
  const pair = generateSigningKeyPair();
  await writeFileAtomic(secretFile, await encodeSecretKeyFile(pair, passphrase), { mode: 0o600 });
  await writeFileAtomic(publicFile, encodePublicKey(pair));
  io.stdout.write(`generated key ${formatKeyId(pair.keyId)}: ${secretFile}${passphrase === null ? ' (no passphrase)' : ''}, ${publicFile}\n`);
  return exitCodes.ok;
}
