import { inspectPackage, type PackageInspection } from '../../services/packages/format';
import { exitCodes, type CliIo } from '../cli-io';
import { formatBytes, parseCommandArgs, progressLine, stopController } from './command-options';

export const inspectUsage = `Usage: torsh-depot inspect <file> [--json]

Reads and verifies a .torshpkg: manifest, resources, every resource's SHA-256.
  --json   print the inspection as JSON on stdout`;

export async function inspectCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: 'the package file' });
  const file = positionals[0] ?? '';
  const progress = progressLine(io, 'verifying');
  const controller = stopController(io);
  let inspection: PackageInspection;
  try {
    inspection = await inspectPackage(file, { signal: controller.signal, onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.finish();
  }
  io.stdout.write(values.json === true ? `${JSON.stringify(inspection, null, 2)}\n` : describe(inspection));
  return exitCodes.ok;
}

function describe(inspection: PackageInspection): string {
  const { manifest, resources, dependencies } = inspection;
  const lines = [`${manifest.name} ${manifest.version}`];
  const field = (label: string, value: string | null): void => {
    if (value !== null && value !== '') lines.push(`  ${label.padEnd(13)}${value}`);
  };
  field('description', manifest.description);
  field('author', manifest.author);
  field('license', manifest.license);
  field('created', manifest.created_at);
  field('format', manifest.format_version);
  field('file size', `${formatBytes(inspection.fileSize)} (${inspection.entryCount} entries)`);
  const dependencyList = Object.entries(dependencies).map(([name, range]) => `${name} ${range}`);
  field('dependencies', dependencyList.length > 0 ? dependencyList.join(', ') : 'none');
  lines.push(`Resources (${resources.length}), all hashes verified:`);
  const width = Math.min(60, Math.max(0, ...resources.map((resource) => resource.path.length)));
  for (const resource of resources) {
    lines.push(`  ${resource.path.padEnd(width)}  ${resource.type.padEnd(13)} ${formatBytes(resource.size).padStart(10)}  ${resource.compression.padEnd(7)}  sha256:${resource.sha256.slice(0, 16)}…`);
  }
  return `${lines.join('\n')}\n`;
}
