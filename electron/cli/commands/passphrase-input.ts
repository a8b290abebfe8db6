import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../cli-io';

export const passphraseEnvVariable = 'TORSH_DEPOT_KEY_PASSPHRASE';

/** Reads a passphrase file: its first line, without the line break. Passphrases never come from arguments. */
export async function readPassphraseFile(file: string): Promise<string> {
  const text = await fsp.readFile(path.resolve(file), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read the passphrase file ${file}: ${error.code ?? error.message}`);
  });
  const passphrase = text.split(/\r?\n/)[0] ?? '';
  if (passphrase === '') throw new UsageError(`the passphrase file ${file} is empty`);
  return passphrase;
}

/** A secret key's passphrase: `--passphrase-file`, else $TORSH_DEPOT_KEY_PASSPHRASE, else null. */
export async function keyPassphrase(passphraseFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string | null> {
  if (passphraseFile !== undefined) return readPassphraseFile(passphraseFile);
  const fromEnv = env[passphraseEnvVariable];
  return fromEnv === undefined || fromEnv === '' ? null : fromEnv;
}
