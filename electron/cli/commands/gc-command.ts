import { z } from 'zod';
import { blobGcResultSchema, defaultBlobGcGraceSeconds } from '../../../shared/domain/storage';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { parseCommandArgs, registryClientFrom, registryOptions, registryOptionsHelp } from './command-options';
import { printResult } from './access-command-support';

export const gcUsage = `Usage: torsh-depot gc [--dry-run] [--grace-seconds N] [--json] --registry URL [--api-key KEY]

Removes the registry's blobs that no version references (left by a crash or a lost publish race),
older than the grace period; never a blob being published. Needs ManageInfrastructure.
  --dry-run            only report what would be removed
  --grace-seconds N    keep blobs younger than this (default ${defaultBlobGcGraceSeconds})
  --json               print the result as JSON
${registryOptionsHelp}`;

const answerSchema = blobGcResultSchema.extend({ job_id: z.string() });

export async function gcCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { ...registryOptions, 'dry-run': { type: 'boolean' }, 'grace-seconds': { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
  const graceText = values['grace-seconds'];
  if (graceText !== undefined && !/^\d{1,8}$/.test(graceText)) throw new UsageError(`--grace-seconds must be a whole number of seconds, got "${graceText}"`);
  const client = registryClientFrom(values, io.env);
  const body = { dry_run: values['dry-run'] === true, grace_seconds: graceText === undefined ? defaultBlobGcGraceSeconds : Number(graceText) };
  const result = await client.sendJson('POST', '/storage/gc', answerSchema, 'Garbage collection', { body });
  printResult(io, values.json, result, () => [
    `${result.dry_run ? 'would remove' : 'removed'} ${result.dry_run ? result.unreferenced : result.removed} unreferenced blob(s), ${result.unreferenced_bytes} bytes`,
    `looked at ${result.scanned}: ${result.referenced} referenced, ${result.young} within the grace period (${result.grace_seconds} s), ${result.in_flight} being published`,
    ...result.digests.map((digest) => `  ${digest}`),
  ]);
  return exitCodes.ok;
}
