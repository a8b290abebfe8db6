import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { collectFolder, packPackage } from '../../services/packages/format';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { formatBytes, parseCommandArgs, progressLine, stopController } from './command-options';

export const packUsage = `Usage: torsh-depot pack <dir> --name NAME --version VERSION -o FILE

Packs a folder into a .torshpkg package.
  --name NAME            package name: lowercase letters, digits, "-", "_", ".", optionally "scope/name"
  --version VERSION      strict semver (1.2.3, 1.2.3-rc.1)
  -o, --output FILE      the package file to write
  --description TEXT     optional manifest fields
  --author TEXT
  --license SPDX

Top-level folders models/ src/ data/ config/ docs/ resources/ give the resource type; any other file
is typed by its extension. Symbolic links are skipped.`;

export async function packCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      name: { type: 'string' },
      version: { type: 'string' },
      output: { type: 'string', short: 'o' },
      description: { type: 'string' },
      author: { type: 'string' },
      license: { type: 'string' },
    },
    { min: 1, max: 1, names: 'the folder to pack' },
  );
  const dir = path.resolve(positionals[0] ?? '');
  if (values.name === undefined) throw new UsageError('--name is required');
  if (values.version === undefined) throw new UsageError('--version is required');
  if (values.output === undefined) throw new UsageError('-o FILE is required');
  const stats = await fsp.stat(dir).catch(() => null);
  if (!stats?.isDirectory()) throw new UsageError(`${dir} is not a folder`);

  const files = await collectFolder(dir);
  const output = path.resolve(values.output);
  if (output.startsWith(`${dir}${path.sep}`)) throw new UsageError('the output file must not lie inside the folder being packed');
  const progress = progressLine(io, 'packing');
  const controller = stopController(io);
  try {
    const result = await packPackage(
      {
        name: values.name,
        version: values.version,
        files,
        description: values.description ?? null,
        author: values.author ?? null,
        license: values.license ?? null,
      },
      output,
      { signal: controller.signal, onProgress: (done, total) => progress.update(done, total) },
    );
    progress.finish();
    io.stdout.write(`packed ${values.name}@${values.version}: ${output} (${files.length} file(s), ${formatBytes(result.size)}, sha256:${result.sha256})\n`);
    return exitCodes.ok;
  } finally {
    progress.finish();
  }
}
