import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DepotError } from '../../../shared/errors';
import { RegistryClient } from '../../services/registry-client/registry-client';
import { UsageError, type CliIo } from '../cli-io';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** `parseArgs` with its errors turned into usage errors (exit code 2). */
export function parseCommandArgs<Options extends OptionSpecs>(args: string[], options: Options, positionals: { min: number; max: number; names: string }) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError(`missing ${positionals.names}`);
  if (count > positionals.max) throw new UsageError(`unexpected argument "${parsed.positionals[positionals.max] ?? ''}"`);
  return parsed;
}

export const registryOptions = {
  registry: { type: 'string' },
  'api-key': { type: 'string' },
  timeout: { type: 'string' },
} as const;

export const registryOptionsHelp = `  --registry URL     the registry (default: $TORSH_DEPOT_REGISTRY)
  --api-key KEY      API key (default: $TORSH_DEPOT_API_KEY)
  --timeout SECS     give up after this long without an answer (default 30)`;

/** A client from `--registry`/`--api-key`, falling back to the environment. */
/** The API key from --api-key or $TORSH_DEPOT_API_KEY; empty means none. */
export function apiKeyFrom(values: { 'api-key'?: string }, env: NodeJS.ProcessEnv): string | null {
  const apiKey = values['api-key'] ?? env.TORSH_DEPOT_API_KEY;
  return apiKey === undefined || apiKey === '' ? null : apiKey;
}

export function registryClientFrom(values: { registry?: string; 'api-key'?: string; timeout?: string }, env: NodeJS.ProcessEnv): RegistryClient {
  const baseUrl = values.registry ?? env.TORSH_DEPOT_REGISTRY;
  if (baseUrl === undefined || baseUrl.trim() === '') throw new UsageError('--registry URL is required (or set TORSH_DEPOT_REGISTRY)');
  const apiKey = apiKeyFrom(values, env);
  const timeout = values.timeout;
  if (timeout !== undefined && (!/^\d+(\.\d+)?$/.test(timeout) || Number(timeout) <= 0)) throw new UsageError(`--timeout must be a positive number of seconds, got "${timeout}"`);
  try {
    return new RegistryClient({ baseUrl, apiKey, ...(timeout === undefined ? {} : { timeoutMs: Number(timeout) * 1000 }) });
  } catch (error) {
    if (error instanceof DepotError && error.code === 'VALIDATION_FAILED') throw new UsageError(`--registry: ${error.message}`);
    throw error;
  }
}

export function positiveIntOption(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a whole number of at least 1, got "${value}"`);
  return Number(value);
}

/** Aborts when the process is asked to stop (Ctrl-C): transfers end cleanly, downloads stay resumable. */
export function stopController(io: CliIo): AbortController {
  const controller = new AbortController();
  void io.stopSignal.then(() => controller.abort());
  return controller;
}

export interface ProgressLine {
  update(done: number, total: number | null): void;
  finish(): void;
}

/** A `\r`-redrawn progress line on stderr, only on a terminal: pipes and logs get no noise. */
export function progressLine(io: CliIo, label: string): ProgressLine {
  const stream = io.stderr as NodeJS.WritableStream & { isTTY?: boolean };
  if (stream.isTTY !== true) return { update: () => undefined, finish: () => undefined };
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      drawn = true;
      const percent = total ? ` ${Math.floor((done / total) * 100)}%` : '';
      stream.write(`\r\x1b[2K${label} ${formatBytes(done)}${total ? ` / ${formatBytes(total)}` : ''}${percent}`);
    },
    finish() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
