import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { encryptionAlgorithms, PackageEncryptor, type EncryptionAlgorithm } from '../../services/encryption/package-encryptor';
import { parseAgeIdentities } from '../../services/encryption/x25519-keys';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { formatBytes, parseCommandArgs, progressLine, stopController } from './command-options';
import { readPassphraseFile } from './passphrase-input';

export const encryptUsage = `Usage: torsh-depot encrypt <file> -o <out> [--algorithm aes-256-gcm|chacha20-poly1305] (--passphrase-file F | --recipient age1…)

Encrypts a file as a stream. aes-256-gcm (default) is torsh-depot's format (docs/formats/encryption.md);
chacha20-poly1305 writes a standard age v1 file that \`age -d\` decrypts.
  -o, --output FILE        the encrypted file
  --algorithm NAME         aes-256-gcm (default) or chacha20-poly1305
  --passphrase-file FILE   encrypt with the passphrase in FILE
  --recipient AGE1…        encrypt to an age X25519 public key (repeatable; implies chacha20-poly1305)`;

export const decryptUsage = `Usage: torsh-depot decrypt <file> -o <out> (--passphrase-file F | --identity F)

Decrypts a torsh-depot AES-256-GCM file or an age v1 file. The output appears only once the whole file
has authenticated; on any failure nothing is written.
  -o, --output FILE        the decrypted file
  --passphrase-file FILE   the passphrase in FILE
  --identity FILE          an age identity file (AGE-SECRET-KEY-1…, as from age-keygen)`;

async function assertInput(file: string): Promise<void> {
  if (!(await fsp.stat(file).catch(() => null))?.isFile()) throw new UsageError(`${file} is not a file`);
}

function assertDistinct(input: string, output: string): void {
  if (input === output) throw new UsageError('the output must be another file than the input');
}

/** The options `encrypt` and `publish` share to choose a key. */
export const encryptionArgs = { algorithm: { type: 'string' }, 'passphrase-file': { type: 'string' }, recipient: { type: 'string', multiple: true } } as const;

export type EncryptionChoice = { algorithm?: EncryptionAlgorithm } & ({ passphrase: string } | { recipients: string[] });

/** A passphrase (from its file) or recipients, or null when neither was given and `required` is false. */
export async function encryptionChoiceFrom(values: { algorithm?: string | undefined; 'passphrase-file'?: string | undefined; recipient?: string[] | undefined }, required: boolean): Promise<EncryptionChoice | null> {
  const algorithm = values.algorithm;
  const recipients = values.recipient ?? [];
  const passphraseFile = values['passphrase-file'];
  if (!required && passphraseFile === undefined && recipients.length === 0) {
    if (algorithm !== undefined) throw new UsageError('--algorithm needs --passphrase-file FILE or --recipient AGE1…');
    return null;
  }
  if (algorithm !== undefined && !encryptionAlgorithms.includes(algorithm as EncryptionAlgorithm)) throw new UsageError(`--algorithm must be ${encryptionAlgorithms.join(' or ')}`);
  if ((passphraseFile === undefined) === (recipients.length === 0)) throw new UsageError('give exactly one of --passphrase-file FILE or --recipient AGE1…');
  if (recipients.length > 0 && algorithm === 'aes-256-gcm') throw new UsageError('--recipient needs chacha20-poly1305 (age)');
  const chosen = algorithm ? { algorithm: algorithm as EncryptionAlgorithm } : {};
  return passphraseFile === undefined ? { ...chosen, recipients } : { ...chosen, passphrase: await readPassphraseFile(passphraseFile) };
}

export async function encryptCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { output: { type: 'string', short: 'o' }, ...encryptionArgs }, { min: 1, max: 1, names: 'the file to encrypt' });
  if (values.output === undefined) throw new UsageError('-o FILE is required');
  const input = path.resolve(positionals[0] ?? '');
  const output = path.resolve(values.output);
  const choice = await encryptionChoiceFrom(values, true);
  await assertInput(input);
  assertDistinct(input, output);
  const progress = progressLine(io, 'encrypting');
  try {
    const result = await new PackageEncryptor().encryptFile(input, output, {
      ...choice,
      signal: stopController(io).signal,
      onProgress: (done) => progress.update(done, null),
    });
    progress.finish();
    io.stdout.write(`encrypted ${input} (${result.algorithm}${result.algorithm === 'chacha20-poly1305' ? ', age v1' : ''}): ${output} (${formatBytes(result.size)})\n`);
    return exitCodes.ok;
  } finally {
    progress.finish();
  }
}

export async function decryptCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { output: { type: 'string', short: 'o' }, 'passphrase-file': { type: 'string' }, identity: { type: 'string' } },
    { min: 1, max: 1, names: 'the file to decrypt' },
  );
  if (values.output === undefined) throw new UsageError('-o FILE is required');
  const passphraseFile = values['passphrase-file'];
  const identityFile = values.identity;
  if ((passphraseFile === undefined) === (identityFile === undefined)) throw new UsageError('give exactly one of --passphrase-file FILE or --identity FILE');
  const input = path.resolve(positionals[0] ?? '');
  const output = path.resolve(values.output);
  await assertInput(input);
  assertDistinct(input, output);
  const passphrase = passphraseFile === undefined ? undefined : await readPassphraseFile(passphraseFile);
  const identities =
    identityFile === undefined
      ? undefined
      : parseAgeIdentities(
          await fsp.readFile(path.resolve(identityFile), 'utf8').catch((error: NodeJS.ErrnoException) => {
            throw new UsageError(`cannot read the identity file ${identityFile}: ${error.code ?? error.message}`);
          }),
        );
  const progress = progressLine(io, 'decrypting');
  try {
    const result = await new PackageEncryptor().decryptFile(input, output, {
      ...(passphrase === undefined ? {} : { passphrase }),
      ...(identities === undefined ? {} : { identities }),
      signal: stopController(io).signal,
      onProgress: (done) => progress.update(done, null),
    });
    progress.finish();
    io.stdout.write(`decrypted ${input} (${result.algorithm}): ${output} (${formatBytes(result.size)})\n`);
    return exitCodes.ok;
  } finally {
    progress.finish();
  }
}
