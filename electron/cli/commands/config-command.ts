import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { ConfigFileError, depotConfigJsonSchema, loadDepotConfig } from '../../services/config/depot-config-file';
import type { DepotConfigSectionName } from '../../../shared/domain/depot-config';
import { parseCommandArgs } from './command-options';

export const configUsage = `Usage: torsh-depot config check FILE [--json] [--skip-secrets] | config schema

Checks a depot.yaml (or JSON) for \`torsh-depot serve --config FILE\`, or prints its JSON Schema.
  config check FILE   validate every section; errors name the bad field by its path (mirrors.list.0.url),
                      and every secret reference must resolve (\${ENV} set, file: present and 0600)
  config schema       the JSON Schema of the file, for editors (yaml-language-server, VS Code)
  --skip-secrets      do not resolve secret references (check on another machine)
  --json              {"ok": true|false, "issues": [{"path", "message"}], "sections": [...]}

Sections: storage, mirrors, cdn, replication, backup, deploy. Durations: 500ms, 10s, 2m, 1h (a bare number
is seconds); sizes: 512MiB, 100MB; secrets: \${ENV_NAME} or file:/path/to/0600-file, never inline.`;

export async function configCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseCommandArgs(rest, { json: { type: 'boolean' }, 'skip-secrets': { type: 'boolean' } }, { min: 0, max: 1, names: 'FILE' });
  if (sub === 'schema') {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0] ?? ''}"`);
    io.stdout.write(`${JSON.stringify(depotConfigJsonSchema(), null, 2)}\n`);
    return exitCodes.ok;
  }
  if (sub !== 'check') throw new UsageError(sub === undefined ? 'missing subcommand (check or schema)' : `unknown subcommand "${sub}"`);
  const file = positionals[0];
  if (file === undefined) throw new UsageError('missing FILE');
  try {
    const loaded = await loadDepotConfig(file, { resolveSecrets: values['skip-secrets'] !== true, env: io.env });
    const sections = (Object.keys(loaded.config) as DepotConfigSectionName[]).filter((name) => loaded.config[name] !== undefined && loaded.config[name] !== null);
    if (values.json === true) io.stdout.write(`${JSON.stringify({ ok: true, file: loaded.file, issues: [], sections })}\n`);
    else io.stdout.write(`${loaded.file}: ok${sections.length > 0 ? ` (${sections.join(', ')})` : ' (no sections)'}\n`);
    return exitCodes.ok;
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    if (values.json === true) io.stdout.write(`${JSON.stringify({ ok: false, file: error.file, issues: error.issues })}\n`);
    else for (const issue of error.issues) io.stderr.write(`${error.file}: ${issue.path || '(top level)'}: ${issue.message}\n`);
    return exitCodes.failure;
  }
}
