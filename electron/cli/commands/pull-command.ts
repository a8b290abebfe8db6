import { promises as fsp } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { isValidPackageName } from '../../../shared/packages/manifest';
import type { SigningPublicKey } from '../../services/signing/ed25519-keys';
import { decodePublicKey } from '../../services/signing/minisign-format';
import { enforceSignaturePolicy, evaluateSignatures, signaturePolicies, type SignaturePolicy } from '../../services/signing/signature-policy';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { apiKeyFrom, formatBytes, parseCommandArgs, progressLine, registryClientFrom, registryOptions, registryOptionsHelp, stopController } from './command-options';
import { PackageEncryptor, type DecryptOptions } from '../../services/encryption/package-encryptor';
import { parseAgeIdentities } from '../../services/encryption/x25519-keys';
import { readPassphraseFile } from './passphrase-input';
import { pullMirrorsCommand, wantsMirrors } from './pull-mirrors-command';
import { pullThroughCdn } from './pull-cdn';

export const pullUsage = `Usage: torsh-depot pull <name>[@<version|range>] --registry URL [-o PATH]

Downloads a package version, or the newest one matching a range (^1.2, ~1.2.3, *).
Ranges skip yanked versions; an exact version is fetched even when yanked.
${registryOptionsHelp}
  -o, --output PATH  file to write, or an existing folder (default: ./<name>-<version>.torshpkg)
  --signature-policy off|warn|require
                     require: keep the package only with a valid signature by a --trusted-key
                     (default: $TORSH_DEPOT_SIGNATURE_POLICY, else off)
  --trusted-key FILE a trusted publisher's minisign public key (repeatable)
  --passphrase-file FILE  decrypt an encrypted version with the passphrase in FILE
  --identity FILE    decrypt an encrypted version with an age identity file (AGE-SECRET-KEY-1…)
  --no-cdn           always download from the registry itself

When the registry routes the version to its CDN (cdn.routing), the bytes come from the ranked edges:
the next edge resumes with Range if one fails, the registry last; the digest is checked as always,
and the transfer is reported back to the registry's CDN statistics (with an API key).

An encrypted version pulled without a key is saved as it is stored: <name>-<version>.torshpkg.torshenc
(AES-256-GCM) or .torshpkg.age (age). With a key, the plaintext appears only once it has authenticated.
An interrupted pull leaves PATH.partial; running the same pull again resumes it.

Through mirrors (segments from several at once, failover, verified against the registry or a signed index):
  torsh-depot pull <name>[@<range>] --mirrors FILE|--config FILE [--strategy S] [--region R]
                   [--trusted-key FILE] [--registry URL] [-o PATH] [--json]
  See docs/mirror-downloads.md.`;

/** `vision/quokka@^1.2` → name and range; no `@` means the newest version. */
export function parsePackageSpec(spec: string): { name: string; range: string } {
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const range = at > 0 ? spec.slice(at + 1) : '*';
  if (!isValidPackageName(name)) throw new UsageError(`"${name}" is not a valid package name`);
  if (range === '' || semver.validRange(range) === null) throw new UsageError(`"${range}" is neither a version nor a version range`);
  return { name, range };
}

/** The key given for an encrypted version, read from files (secrets never come from arguments). */
async function decryptOptions(passphraseFile: string | undefined, identityFile: string | undefined): Promise<Pick<DecryptOptions, 'passphrase' | 'identities'> | null> {
  if (passphraseFile !== undefined && identityFile !== undefined) throw new UsageError('give at most one of --passphrase-file FILE or --identity FILE');
  if (passphraseFile !== undefined) return { passphrase: await readPassphraseFile(passphraseFile) };
  if (identityFile === undefined) return null;
  const text = await fsp.readFile(path.resolve(identityFile), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read the identity file ${identityFile}: ${error.code ?? error.message}`);
  });
  return { identities: parseAgeIdentities(text) };
}

async function signatureOptions(policyText: string | undefined, keyFiles: string[]): Promise<{ policy: SignaturePolicy; keys: SigningPublicKey[] }> {
  const policy = policyText ?? 'off';
  if (!(signaturePolicies as readonly string[]).includes(policy)) throw new UsageError(`--signature-policy must be ${signaturePolicies.join(', ')}, got "${policy}"`);
  const keys = await Promise.all(
    keyFiles.map(async (file) => {
      const text = await fsp.readFile(path.resolve(file), 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read the trusted key ${file}: ${error.code ?? error.message}`);
      });
      return decodePublicKey(text);
    }),
  );
  if (policy === 'require' && keys.length === 0) throw new UsageError('--signature-policy require needs at least one --trusted-key FILE');
  return { policy: policy as SignaturePolicy, keys };
}

export async function pullCommand(args: string[], io: CliIo): Promise<number> {
  if (wantsMirrors(args)) return pullMirrorsCommand(args, io);
  const { values, positionals } = parseCommandArgs(
    args,
    {
      ...registryOptions,
      output: { type: 'string', short: 'o' },
      'signature-policy': { type: 'string' },
      'trusted-key': { type: 'string', multiple: true },
      'passphrase-file': { type: 'string' },
      identity: { type: 'string' },
      'no-cdn': { type: 'boolean' },
    },
    { min: 1, max: 1, names: 'the package (name@version or name@range)' },
  );
  const { name, range } = parsePackageSpec(positionals[0] ?? '');
  const policy = await signatureOptions(values['signature-policy'] ?? io.env.TORSH_DEPOT_SIGNATURE_POLICY, values['trusted-key'] ?? []);
  const unlock = await decryptOptions(values['passphrase-file'], values.identity);
  const client = registryClientFrom(values, io.env);
  const controller = stopController(io);
  const signal = controller.signal;
  // Exact versions are fetched even when yanked (pins keep working); ranges skip yanked ones.
  const metadata = semver.valid(range) === range ? await client.getVersion(name, range, { signal }) : await client.resolve(name, range, { signal });
  const encryption = metadata.encryption ?? null;
  if (unlock && !encryption) throw new UsageError(`${metadata.name}@${metadata.version} is not encrypted: drop --passphrase-file / --identity`);
  const sealedSuffix = encryption && !unlock ? (encryption.algorithm === 'aes-256-gcm' ? '.torshenc' : '.age') : '';
  const fileName = `${metadata.name.replace('/', '__')}-${metadata.version}.torshpkg${sealedSuffix}`;
  let destination = path.resolve(values.output ?? fileName);
  if (values.output !== undefined && (await fsp.stat(destination).catch(() => null))?.isDirectory()) destination = path.join(destination, fileName);

  const progress = progressLine(io, `pulling ${metadata.name}@${metadata.version}`);
  try {
    // Under a policy the bytes land beside the target and become it only once the signature checks out;
    // ciphertext to decrypt lands beside it too, and only the authenticated plaintext becomes the target.
    const landing = unlock ? `${destination}.sealed` : policy.policy === 'off' ? destination : `${destination}.unverified`;
    const viaCdn = values['no-cdn'] === true ? null : await pullThroughCdn(client.baseUrl, apiKeyFrom(values, io.env), metadata, landing, signal, progress, io);
    const result =
      viaCdn ??
      (await client.download(metadata.name, metadata.version, landing, {
        signal,
        expectedDigest: metadata.digest,
        onProgress: (received, total) => progress.update(received, total),
      }));
    progress.finish();
    if (policy.policy !== 'off') {
      try {
        const verdict = await evaluateSignatures(metadata, landing, policy.keys, (keyId) => client.getSignature(metadata.name, metadata.version, keyId, { signal }), signal);
        enforceSignaturePolicy(policy.policy, verdict, (message) => io.stderr.write(`torsh-depot pull: warning: ${message}\n`));
        if (verdict.status === 'trusted') io.stderr.write(`torsh-depot pull: ${verdict.message}\n`);
      } catch (error) {
        await fsp.rm(landing, { force: true });
        throw error;
      }
      if (!unlock) {
        await fsp.rename(landing, destination);
        result.path = destination;
      }
    }
    if (unlock) {
      const decrypting = progressLine(io, `decrypting ${metadata.name}@${metadata.version}`);
      try {
        const { size } = await new PackageEncryptor().decryptFile(landing, destination, { ...unlock, signal, onProgress: (done) => decrypting.update(done, metadata.size) });
        result.path = destination;
        result.size = size;
      } finally {
        decrypting.finish();
        await fsp.rm(landing, { force: true });
      }
    }
    const resumed = result.resumedFrom > 0 ? `, resumed after ${formatBytes(result.resumedFrom)}` : '';
    const sealedNote = encryption ? (unlock ? ', decrypted' : `, encrypted (${encryption.algorithm}): pull with --${encryption.unlock === 'passphrase' ? 'passphrase-file' : 'identity'} to decrypt`) : '';
    io.stdout.write(`pulled ${metadata.name}@${metadata.version}${metadata.yanked ? ' (yanked)' : ''}: ${result.path} (${formatBytes(result.size)}, ${result.digest}${resumed}${sealedNote})\n`);
    return exitCodes.ok;
  } finally {
    progress.finish();
  }
}
