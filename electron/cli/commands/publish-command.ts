import type { PublishMetadata } from '../../../shared/domain/registry';
import { DepotError } from '../../../shared/errors';
import { exitCodes, type CliIo } from '../cli-io';
import { formatBytes, parseCommandArgs, progressLine, registryClientFrom, registryOptions, registryOptionsHelp, stopController } from './command-options';

export const publishUsage = `Usage: torsh-depot publish <file> --registry URL [--api-key KEY] [--tag TAG]...

Uploads a .torshpkg to a registry (name and version come from its manifest).
${registryOptionsHelp}
  --tag TAG          a search tag (repeatable)
  --description TEXT, --author TEXT, --license SPDX
                     override the manifest's fields in the registry listing

Publishing the same bytes again is a no-op; other bytes under a published version are refused.`;

export async function publishCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      ...registryOptions,
      tag: { type: 'string', multiple: true },
      description: { type: 'string' },
      author: { type: 'string' },
      license: { type: 'string' },
    },
    { min: 1, max: 1, names: 'the package file' },
  );
  const client = registryClientFrom(values, io.env);
  const metadata: PublishMetadata = {
    ...(values.tag ? { tags: values.tag } : {}),
    ...(values.description !== undefined ? { description: values.description } : {}),
    ...(values.author !== undefined ? { author: values.author } : {}),
    ...(values.license !== undefined ? { license: values.license } : {}),
  };
  const progress = progressLine(io, 'uploading');
  const controller = stopController(io);
  try {
    const result = await client.publish(positionals[0] ?? '', {
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
      signal: controller.signal,
      onProgress: (sent, total) => progress.update(sent, total),
    });
    progress.finish();
    io.stdout.write(
      result.created
        ? `published ${result.name}@${result.version} to ${client.baseUrl} (${formatBytes(result.size)}, ${result.digest})\n`
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
  }
}
