import { appVersion } from '../services/version';
import { exitCodes, type CliIo } from './cli-io';
import { runCommand, type LoadedCommand } from './run-command';
import { serveCommand, serveUsage } from './serve-command';
import { packCommand, packUsage } from './commands/pack-command';
import { inspectCommand, inspectUsage } from './commands/inspect-command';
import { publishCommand, publishUsage } from './commands/publish-command';
import { pullCommand, pullUsage } from './commands/pull-command';
import { searchCommand, searchUsage } from './commands/search-command';
import { keygenCommand, keygenUsage } from './commands/keygen-command';
import { signCommand, signUsage } from './commands/sign-command';
import { verifyCommand, verifyUsage } from './commands/verify-command';
import { decryptCommand, decryptUsage, encryptCommand, encryptUsage } from './commands/encrypt-command';
import { usersCommand, usersUsage } from './commands/users-command';
import { rolesCommand, rolesUsage } from './commands/roles-command';
import { keysCommand, keysUsage } from './commands/keys-command';
import { cdnCommand, cdnUsage } from './commands/cdn-command';
import { replicationCommand, replicationUsage } from './commands/replication-command';
import { gcCommand, gcUsage } from './commands/gc-command';
import { mirrorCommand, mirrorUsage } from './commands/mirror-command';
import { backupCommand, backupUsage } from './commands/backup-command';
import { configCommand, configUsage } from './commands/config-command';

type Command = LoadedCommand['run'];

/** Subcommands; later capabilities add theirs (pack, inspect, publish, pull, search…). */
const commands: Record<string, { run: Command; usage: string }> = {
  serve: { run: serveCommand, usage: serveUsage },
  pack: { run: packCommand, usage: packUsage },
  inspect: { run: inspectCommand, usage: inspectUsage },
  publish: { run: publishCommand, usage: publishUsage },
  pull: { run: pullCommand, usage: pullUsage },
  search: { run: searchCommand, usage: searchUsage },
  keygen: { run: keygenCommand, usage: keygenUsage },
  sign: { run: signCommand, usage: signUsage },
  verify: { run: verifyCommand, usage: verifyUsage },
  encrypt: { run: encryptCommand, usage: encryptUsage },
  decrypt: { run: decryptCommand, usage: decryptUsage },
  users: { run: usersCommand, usage: usersUsage },
  roles: { run: rolesCommand, usage: rolesUsage },
  keys: { run: keysCommand, usage: keysUsage },
  cdn: { run: cdnCommand, usage: cdnUsage },
  replication: { run: replicationCommand, usage: replicationUsage },
  gc: { run: gcCommand, usage: gcUsage },
  mirror: { run: mirrorCommand, usage: mirrorUsage },
  backup: { run: backupCommand, usage: backupUsage },
  config: { run: configCommand, usage: configUsage },
};

export const cliUsage = `Usage: torsh-depot <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.usage.split('\n')[2] ?? ''}`)
  .join('\n')}

Options:
  --help       show help (also: torsh-depot <command> --help)
  --version    print the version`;

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${cliUsage}\n`);
    return name === undefined ? exitCodes.usage : exitCodes.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${appVersion}\n`);
    return exitCodes.ok;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`torsh-depot: unknown command "${name}" (see torsh-depot --help)\n`);
    return exitCodes.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.usage}\n`);
    return exitCodes.ok;
  }
  return runCommand(name, command, rest, io);
}
