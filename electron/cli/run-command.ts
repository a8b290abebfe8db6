import { exitCodes, UsageError, type CliIo } from './cli-io';

export type Command = (args: string[], io: CliIo) => Promise<number>;

export interface LoadedCommand {
  run: Command;
  usage: string;
}

/** Runs one subcommand: a usage error prints the command's usage (exit 2), any other error one line (exit 1). */
export async function runCommand(name: string, command: LoadedCommand, args: string[], io: CliIo): Promise<number> {
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`torsh-depot ${name}: ${error.message}\n${command.usage}\n`);
      return exitCodes.usage;
    }
    io.stderr.write(`torsh-depot ${name}: ${oneLine(error)}\n`);
    return exitCodes.failure;
  }
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}
