import { promises as fsp } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { isValidPackageName } from '../../../shared/packages/manifest';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { formatBytes, parseCommandArgs, progressLine, registryClientFrom, registryOptions, registryOptionsHelp, stopController } from './command-options';

export const pullUsage = `Usage: torsh-depot pull <name>[@<version|range>] --registry URL [-o PATH]

Downloads a package version, or the newest one matching a range (^1.2, ~1.2.3, *).
Ranges skip yanked versions; an exact version is fetched even when yanked.
${registryOptionsHelp}
  -o, --output PATH  file to write, or an existing folder (default: ./<name>-<version>.torshpkg)

An interrupted pull leaves PATH.partial; running the same pull again resumes it.`;

/** `vision/quokka@^1.2` → name and range; no `@` means the newest version. */
export function parsePackageSpec(spec: string): { name: string; range: string } {
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const range = at > 0 ? spec.slice(at + 1) : '*';
  if (!isValidPackageName(name)) throw new UsageError(`"${name}" is not a valid package name`);
  if (range === '' || semver.validRange(range) === null) throw new UsageError(`"${range}" is neither a version nor a version range`);
  return { name, range };
}

export async function pullCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...registryOptions, output: { type: 'string', short: 'o' } }, { min: 1, max: 1, names: 'the package (name@version or name@range)' });
  const { name, range } = parsePackageSpec(positionals[0] ?? '');
  const client = registryClientFrom(values, io.env);
  const controller = stopController(io);
  const signal = controller.signal;
  // Exact versions are fetched even when yanked (pins keep working); ranges skip yanked ones.
  const metadata = semver.valid(range) === range ? await client.getVersion(name, range, { signal }) : await client.resolve(name, range, { signal });
  const fileName = `${metadata.name.replace('/', '__')}-${metadata.version}.torshpkg`;
  let destination = path.resolve(values.output ?? fileName);
  if (values.output !== undefined && (await fsp.stat(destination).catch(() => null))?.isDirectory()) destination = path.join(destination, fileName);

  const progress = progressLine(io, `pulling ${metadata.name}@${metadata.version}`);
  try {
    const result = await client.download(metadata.name, metadata.version, destination, {
      signal,
      expectedDigest: metadata.digest,
      onProgress: (received, total) => progress.update(received, total),
    });
    progress.finish();
    const resumed = result.resumedFrom > 0 ? `, resumed after ${formatBytes(result.resumedFrom)}` : '';
    io.stdout.write(`pulled ${metadata.name}@${metadata.version}${metadata.yanked ? ' (yanked)' : ''}: ${result.path} (${formatBytes(result.size)}, ${result.digest}${resumed})\n`);
    return exitCodes.ok;
  } finally {
    progress.finish();
  }
}
