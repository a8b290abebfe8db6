import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { MirrorDownloadEvent } from '../../services/mirrors/download/download-types';
import { planMirrorDownload, pullPlanned } from '../../services/mirrors/download/mirror-pull';
import { exitCodes, type CliIo } from '../cli-io';
import { formatBytes, parseCommandArgs, registryClientFrom, registryOptions, stopController } from './command-options';
import { mirrorsChoiceFrom, mirrorsOptions, mirrorsOptionsHelp } from './mirrors-options';
import { parsePackageSpec } from './pull-command';

export const pullMirrorsUsage = `Usage: torsh-depot pull <name>[@<version|range>] --mirrors FILE|--config FILE [--strategy S] [--region R] [-o PATH]

Downloads through the mirror set: segments come from several mirrors at once, a mirror that fails,
stalls or serves other bytes is left for the next one, and the file appears only once its SHA-256
matches the registry's metadata (with --registry) or a mirror index signed by a trusted key.
${mirrorsOptionsHelp}
  --registry URL     take the version and digest from the registry, and fall back to it (auto_fallback)
  --api-key KEY      API key for the registry (default: $TORSH_DEPOT_API_KEY)
  -o, --output PATH  file to write, or an existing folder (default: ./<name>-<version>.torshpkg)
  --json             one JSON event per line on stdout (start, progress, failover, mirror-bad, done)`;

/** True when `pull` was asked to go through mirrors. */
export function wantsMirrors(args: readonly string[]): boolean {
  return args.some((arg) => arg === '--mirrors' || arg.startsWith('--mirrors=') || arg === '--config' || arg.startsWith('--config='));
}

export async function pullMirrorsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { ...registryOptions, ...mirrorsOptions, output: { type: 'string', short: 'o' }, json: { type: 'boolean' } },
    { min: 1, max: 1, names: 'the package (name@version or name@range)' },
  );
  const { name, range } = parsePackageSpec(positionals[0] ?? '');
  const choice = await mirrorsChoiceFrom(values, io.env);
  const registryUrl = values.registry ?? io.env.TORSH_DEPOT_REGISTRY;
  const registry = registryUrl !== undefined && registryUrl.trim() !== '' ? registryClientFrom(values, io.env) : null;
  const controller = stopController(io);
  const signal = controller.signal;

  const plan = await planMirrorDownload({ name, range, section: choice.section, trustedKeys: choice.trustedKeys, strategy: choice.strategy, clientRegion: choice.clientRegion, registry, signal });
  const fileName = `${plan.name.replace('/', '__')}-${plan.version}.torshpkg`;
  let destination = path.resolve(values.output ?? fileName);
  if (values.output !== undefined && (await fsp.stat(destination).catch(() => null))?.isDirectory()) destination = path.join(destination, fileName);

  const report = values.json === true ? jsonReporter(io) : humanReporter(io, `${plan.name}@${plan.version}`);
  if (values.json === true) io.stdout.write(`${JSON.stringify({ type: 'plan', name: plan.name, version: plan.version, sha256: plan.sha256, size: plan.size, digest_source: plan.digestSource, ranking: plan.ranking })}\n`);
  try {
    const result = await pullPlanned(plan, choice.section, destination, { signal, onEvent: report.event });
    report.finish();
    if (values.json !== true) {
      const failovers = result.failovers > 0 ? `; ${result.failovers} failover${result.failovers === 1 ? '' : 's'}` : '';
      const bad = result.badMirrors.length > 0 ? `; bad: ${result.badMirrors.join(', ')}` : '';
      const from = result.mirrors.map((usage) => `${usage.id} ${formatBytes(usage.bytes)}`).join(', ');
      io.stdout.write(`pulled ${plan.name}@${plan.version}${plan.yanked ? ' (yanked)' : ''}: ${result.path} (${formatBytes(result.size)}, ${result.digest}, from ${from}${failovers}${bad})\n`);
    }
    return exitCodes.ok;
  } finally {
    report.finish();
  }
}

interface Reporter {
  event(event: MirrorDownloadEvent): void;
  finish(): void;
}

function jsonReporter(io: CliIo): Reporter {
  return {
    event: (event) => io.stdout.write(`${JSON.stringify(event)}\n`),
    finish: () => undefined,
  };
}

/** A drawn progress bar on a terminal; on a pipe, a plain line at every tenth and at every failover. */
function humanReporter(io: CliIo, label: string): Reporter {
  const stream = io.stderr as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  const tty = stream.isTTY === true;
  let drawn = false;
  let lastTenth = -1;
  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    event(event) {
      if (event.type === 'progress') {
        const fraction = event.total > 0 ? event.bytes / event.total : 1;
        const rate = `${formatBytes(event.rateBytesPerSec)}/s`;
        const eta = event.etaSeconds === null ? '' : ` ETA ${formatSeconds(event.etaSeconds)}`;
        const via = event.mirrors.length > 0 ? ` via ${event.mirrors.join(', ')}` : '';
        if (tty) {
          const width = 24;
          const filled = Math.round(fraction * width);
          stream.write(`\r\x1b[2K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(fraction * 100)}% ${formatBytes(event.bytes)}/${formatBytes(event.total)} ${rate}${eta}${via}`);
          drawn = true;
        } else {
          const tenth = Math.floor(fraction * 10);
          if (tenth > lastTenth) {
            lastTenth = tenth;
            stream.write(`${label}: ${tenth * 10}% ${formatBytes(event.bytes)}/${formatBytes(event.total)} ${rate}${eta}${via}\n`);
          }
        }
      } else if (event.type === 'failover' || event.type === 'mirror-bad' || event.type === 'mirror-dropped' || event.type === 'mirror-added' || event.type === 'repair') {
        clear();
        stream.write(`${label}: ${event.type} ${event.mirror}: ${event.reason}\n`);
      }
    },
    finish: clear,
  };
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
