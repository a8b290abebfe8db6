import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PublishMetadata } from '../../../shared/domain/registry';
import { DepotError } from '../../../shared/errors';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { consistencyLevelSchema } from '../../../shared/domain/replication';
import { PackageEncryptor } from '../../services/encryption/package-encryptor';
import { inspectPackage } from '../../services/packages/format';
import { tagsFromManifest } from '../../services/registry/registry-service';
import { encryptionArgs, encryptionChoiceFrom, type EncryptionChoice } from './encrypt-command';
import { formatBytes, parseCommandArgs, progressLine, registryClientFrom, registryOptions, registryOptionsHelp, stopController } from './command-options';

export const publishUsage = `Usage: torsh-depot publish <file> --registry URL [--api-key KEY] [--tag TAG]... [--consistency LEVEL]
       [--algorithm aes-256-gcm|chacha20-poly1305] [--passphrase-file F | --recipient age1…]

Uploads a .torshpkg to a registry (name and version come from its manifest).
${registryOptionsHelp}
  --tag TAG          a search tag (repeatable)
  --description TEXT, --author TEXT, --license SPDX
  --consistency eventual|quorum|strong|causal
                     replication level this publish must reach before the version is visible
                     (default: the matching replication rule's; see docs/replication.md)
                     override the manifest's fields in the registry listing
  --passphrase-file FILE, --recipient AGE1… (repeatable), --algorithm NAME
                     encrypt before uploading, as \`torsh-depot encrypt\` does: the package is checked
                     here, and the registry stores ciphertext it cannot read (its resources stay
                     undisclosed; \`pull --passphrase-file/--identity\` decrypts)

Publishing the same bytes again is a no-op; other bytes under a published version are refused (an
encrypted publish onto a published version always is).`;

export async function publishCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      ...registryOptions,
      tag: { type: 'string', multiple: true },
      description: { type: 'string' },
      author: { type: 'string' },
      license: { type: 'string' },
      consistency: { type: 'string' },
      ...encryptionArgs,
    },
    { min: 1, max: 1, names: 'the package file' },
  );
  const encryption = await encryptionChoiceFrom(values, false);
  const consistency = values.consistency === undefined ? undefined : consistencyLevelSchema.safeParse(values.consistency);
  if (consistency && !consistency.success) throw new UsageError(`--consistency must be eventual, quorum, strong or causal, got "${values.consistency}"`);
  const client = registryClientFrom(values, io.env);
  const metadata: PublishMetadata = {
    ...(values.tag ? { tags: values.tag } : {}),
    ...(values.description !== undefined ? { description: values.description } : {}),
    ...(values.author !== undefined ? { author: values.author } : {}),
    ...(values.license !== undefined ? { license: values.license } : {}),
  };
  const controller = stopController(io);
  const sealed = encryption ? await sealPackage(positionals[0] ?? '', encryption, metadata, io, controller.signal) : null;
  const progress = progressLine(io, 'uploading');
  try {
    const result = await client.publish(sealed?.file ?? positionals[0] ?? '', {
      ...(sealed ? { name: sealed.name, version: sealed.version, metadata: sealed.metadata, encrypted: { dependencies: sealed.dependencies } } : {}),
      ...(!sealed && Object.keys(metadata).length > 0 ? { metadata } : {}),
      ...(consistency?.data ? { consistency: consistency.data } : {}),
      signal: controller.signal,
      onProgress: (sent, total) => progress.update(sent, total),
    });
    progress.finish();
    io.stdout.write(
      result.created
        ? `published ${result.name}@${result.version} to ${client.baseUrl} (${sealed ? 'encrypted, ' : ''}${formatBytes(result.size)}, ${result.digest})\n`
        : `${result.name}@${result.version} was already published with these bytes (${result.digest}); nothing to do\n`,
    );
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof DepotError && error.code === 'UNAUTHORIZED' && (values['api-key'] ?? io.env.TORSH_DEPOT_API_KEY ?? '') === '') {
      throw new DepotError('UNAUTHORIZED', `${error.message} Pass --api-key or set TORSH_DEPOT_API_KEY.`);
    }
    throw error;
  } finally {
    progress.finish();
    await sealed?.remove();
  }
}

/**
 * Checks the package (every resource's digest), then encrypts it into a private temp folder. The registry
 * cannot read what it receives, so the listing fields (the manifest's, unless overridden) and the
 * dependencies travel with the upload.
 */
async function sealPackage(
  file: string,
  encryption: EncryptionChoice,
  overrides: PublishMetadata,
  io: CliIo,
  signal: AbortSignal,
): Promise<{ file: string; name: string; version: string; metadata: PublishMetadata; dependencies: Record<string, string>; remove: () => Promise<void> }> {
  const input = path.resolve(file);
  const { manifest, dependencies } = await inspectPackage(input, { signal });
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'torsh-depot-publish-'));
  const remove = (): Promise<void> => fsp.rm(dir, { recursive: true, force: true });
  const progress = progressLine(io, 'encrypting');
  try {
    const sealedFile = path.join(dir, `${path.basename(input)}.sealed`);
    await new PackageEncryptor().encryptFile(input, sealedFile, { ...encryption, signal, onProgress: (done) => progress.update(done, null) });
    const metadata: PublishMetadata = {
      description: manifest.description ?? null,
      author: manifest.author ?? null,
      license: manifest.license ?? null,
      tags: tagsFromManifest(manifest.metadata),
      ...overrides,
    };
    return { file: sealedFile, name: manifest.name, version: manifest.version, metadata, dependencies, remove };
  } catch (error) {
    await remove();
    throw error;
  } finally {
    progress.finish();
  }
}
