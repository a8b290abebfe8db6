import { exitCodes, type CliIo } from '../cli-io';
import { parseCommandArgs, positiveIntOption, registryClientFrom, registryOptions, registryOptionsHelp, stopController } from './command-options';

export const searchUsage = `Usage: torsh-depot search [query] --registry URL [--json] [--page N] [--per-page N]

Searches a registry's packages by name, description and tags (no query lists them all).
${registryOptionsHelp}
  --json             print the raw result as JSON
  --page N           result page (default 1)
  --per-page N       results per page, at most 100 (default 20)`;

export async function searchCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { ...registryOptions, json: { type: 'boolean' }, page: { type: 'string' }, 'per-page': { type: 'string' } },
    { min: 0, max: 1, names: 'the search query' },
  );
  const query = positionals[0] ?? '';
  const page = positiveIntOption(values.page, '--page', 1);
  const perPage = positiveIntOption(values['per-page'], '--per-page', 20);
  const client = registryClientFrom(values, io.env);
  const result = await client.search(query, page, perPage, { signal: stopController(io).signal });
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return exitCodes.ok;
  }
  if (result.packages.length === 0) {
    const nothing = query === '' ? 'the registry has no packages yet' : `no packages match "${query}"`;
    io.stdout.write(result.total > 0 ? `no results on page ${page} (${result.total} in all)\n` : `${nothing}\n`);
    return exitCodes.ok;
  }
  const nameWidth = Math.min(40, Math.max(...result.packages.map((pkg) => `${pkg.name}@${pkg.version}`.length)));
  for (const pkg of result.packages) {
    const tags = pkg.tags.length > 0 ? ` [${pkg.tags.join(', ')}]` : '';
    const description = (pkg.description ?? '').replace(/\s+/g, ' ').slice(0, 80);
    io.stdout.write(`${`${pkg.name}@${pkg.version}`.padEnd(nameWidth)}  ${String(pkg.downloads).padStart(7)} dl  ${description}${tags}\n`);
  }
  const shown = (page - 1) * perPage + result.packages.length;
  io.stdout.write(`${shown < result.total ? `page ${page}: ` : ''}${result.packages.length} of ${result.total}${result.total_capped ? '+' : ''} package(s)\n`);
  return exitCodes.ok;
}
