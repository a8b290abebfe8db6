import type { MirrorRankEntry } from '../../../shared/domain/mirrors';
import { seededRandom } from '../../../shared/seeded-random';
import { planMirrorDownload, type MirrorPlan } from '../../services/mirrors/download/mirror-pull';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { parseCommandArgs, registryClientFrom, registryOptions, stopController } from './command-options';
import { mirrorsChoiceFrom, mirrorsOptions, mirrorsOptionsHelp } from './mirrors-options';
import { parsePackageSpec } from './pull-command';

export const mirrorRankUsage = `Usage: torsh-depot mirror rank <name>[@<version|range>] --mirrors FILE|--config FILE [--strategy S] [--region R]

Prints the order in which the mirrors would serve that version, with the reason for each place;
skipped mirrors (disabled, unhealthy, index unsigned or lacking the version) are listed with why.
${mirrorsOptionsHelp}
  --registry URL     take the version and digest from the registry; it is ranked last (auto_fallback)
  --seed N           make weighted choices repeatable
  --json             the ranking as JSON`;

/** `torsh-depot mirror rank …` (the `mirror` command dispatches `rank` here). */
export async function mirrorRankCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { ...registryOptions, ...mirrorsOptions, seed: { type: 'string' }, json: { type: 'boolean' } },
    { min: 1, max: 1, names: 'the package (name@version or name@range)' },
  );
  const { name, range } = parsePackageSpec(positionals[0] ?? '');
  if (values.seed !== undefined && !/^\d+$/.test(values.seed)) throw new UsageError(`--seed must be a whole number, got "${values.seed}"`);
  const choice = await mirrorsChoiceFrom(values, io.env);
  const registryUrl = values.registry ?? io.env.TORSH_DEPOT_REGISTRY;
  const registry = registryUrl !== undefined && registryUrl.trim() !== '' ? registryClientFrom(values, io.env) : null;
  const plan = await planMirrorDownload({
    name,
    range,
    section: choice.section,
    trustedKeys: choice.trustedKeys,
    strategy: choice.strategy,
    clientRegion: choice.clientRegion,
    registry,
    random: values.seed === undefined ? undefined : seededRandom(Number(values.seed)),
    signal: stopController(io).signal,
  });
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify({ name: plan.name, version: plan.version, strategy: choice.strategy, region: choice.clientRegion, ranking: plan.ranking }, null, 2)}\n`);
  } else {
    io.stdout.write(formatRanking(plan, choice.strategy, choice.clientRegion));
  }
  return exitCodes.ok;
}

/** The ranking as a table: place, mirror, reason; skipped mirrors last with a dash for a place. */
export function formatRanking(plan: Pick<MirrorPlan, 'name' | 'version' | 'ranking'>, strategy: string, region: string | null): string {
  const header = `${plan.name}@${plan.version} — strategy ${strategy}${region ? `, client region ${region}` : ''}\n`;
  const width = Math.max(6, ...plan.ranking.map((entry: MirrorRankEntry) => entry.id.length));
  const rows = plan.ranking.map((entry) => `${(entry.place === null ? '-' : String(entry.place)).padStart(5)}  ${entry.id.padEnd(width)}  ${entry.eligible ? '' : 'skipped: '}${entry.reason}`);
  return `${header}place  ${'mirror'.padEnd(width)}  reason\n${rows.join('\n')}\n`;
}
