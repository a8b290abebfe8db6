import { permissionSchema, type Permission } from '../../../shared/domain/access';
import { AccessClient } from '../../services/registry-client/access-client';
import { UsageError, type CliIo } from '../cli-io';
import { parseCommandArgs, registryClientFrom, registryOptions } from './command-options';

export const accessOptionsHelp = `  --json             print the raw result as JSON
Needs a key whose user holds ManageSecurity (the admin role), except \`users whoami\`.`;

type OptionSpecs = Parameters<typeof parseCommandArgs>[1];

/** Splits `<action> [args]`, parses the action's options plus the registry ones, and builds the client. */
export function accessCall<Options extends OptionSpecs>(args: string[], io: CliIo, actions: readonly string[], options: Options, positionals: { min: number; max: number; names: string }) {
  const [action, ...rest] = args;
  if (action === undefined || !actions.includes(action)) throw new UsageError(action === undefined ? `missing the action (${actions.join(', ')})` : `unknown action "${action}" (${actions.join(', ')})`);
  const parsed = parseCommandArgs(rest, { ...registryOptions, json: { type: 'boolean' }, ...options }, positionals);
  return { action, values: parsed.values, positionals: parsed.positionals, access: new AccessClient(registryClientFrom(parsed.values as { registry?: string; 'api-key'?: string; timeout?: string }, io.env)) };
}

export function parsePermissions(values: string[] | undefined): Permission[] | undefined {
  if (values === undefined) return undefined;
  return values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '')
    .map((value) => {
      const parsed = permissionSchema.safeParse(value);
      if (!parsed.success) throw new UsageError(`unknown permission "${value}" (one of ${permissionSchema.options.join(', ')})`);
      return parsed.data;
    });
}

/** Prints JSON (`--json`) or the given lines. */
export function printResult(io: CliIo, json: boolean | undefined, value: unknown, lines: () => string[]): void {
  io.stdout.write(json === true ? `${JSON.stringify(value, null, 2)}\n` : lines().map((line) => `${line}\n`).join(''));
}

/** Left-aligned columns, for lists of users, keys and roles. */
export function columns(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>((acc, row) => row.map((cell, index) => Math.max(acc[index] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join('  '));
}
