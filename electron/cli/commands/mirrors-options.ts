import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { mirrorsSectionSchema, selectionStrategies, type MirrorsSection, type SelectionStrategy } from '../../../shared/domain/mirrors';
import { resolveClientRegion, isKnownRegion } from '../../../shared/domain/regions';
import type { SigningPublicKey } from '../../services/signing/ed25519-keys';
import { decodePublicKey } from '../../services/signing/minisign-format';
import { UsageError } from '../cli-io';

/** The flags every command that chooses mirrors takes (`pull --mirrors`, `mirror rank`). */
export const mirrorsOptions = {
  mirrors: { type: 'string' },
  config: { type: 'string' },
  strategy: { type: 'string' },
  region: { type: 'string' },
  'trusted-key': { type: 'string', multiple: true },
} as const;

export const mirrorsOptionsHelp = `  --mirrors FILE     a file holding just the mirrors section (YAML or JSON)
  --config FILE      depot.yaml: its mirrors section is used
  --strategy S       ${selectionStrategies.join(' | ')} (default: the file's selection_strategy)
  --region R         where this client is: a cloud region id or lat,lon
                     (default: $TORSH_DEPOT_REGION, else the file's client_region)
  --trusted-key FILE a key mirror indexes may be signed with, besides the file's trusted_keys (repeatable)`;

export interface MirrorsChoice {
  section: MirrorsSection;
  strategy: SelectionStrategy;
  clientRegion: string | null;
  trustedKeys: SigningPublicKey[];
}

/** Reads `--mirrors FILE` or `--config FILE`, the strategy, the client region and the trusted keys. */
export async function mirrorsChoiceFrom(
  values: { mirrors?: string; config?: string; strategy?: string; region?: string; 'trusted-key'?: string[] },
  env: NodeJS.ProcessEnv,
): Promise<MirrorsChoice> {
  if ((values.mirrors === undefined) === (values.config === undefined)) throw new UsageError('give one of --mirrors FILE or --config FILE');
  const file = path.resolve((values.mirrors ?? values.config) as string);
  const section = await loadMirrorsSection(file, values.config !== undefined);
  const strategy = values.strategy ?? section.selection_strategy;
  if (!(selectionStrategies as readonly string[]).includes(strategy)) throw new UsageError(`--strategy must be one of ${selectionStrategies.join(', ')}, got "${strategy}"`);
  const clientRegion = resolveClientRegion({ flag: values.region, env: env.TORSH_DEPOT_REGION, config: section.client_region });
  if (clientRegion !== null && !isKnownRegion(clientRegion)) {
    throw new UsageError(`"${clientRegion}" is not a known region (an AWS/GCP/Azure id such as us-east-1, europe-west4, westeurope, or lat,lon)`);
  }
  const keyTexts = [
    ...(await Promise.all(section.trusted_keys.map((entry) => keyText(entry, path.dirname(file), 'trusted_keys')))),
    ...(await Promise.all((values['trusted-key'] ?? []).map((entry) => keyText(entry, process.cwd(), '--trusted-key')))),
  ];
  const trustedKeys = keyTexts.map(({ text, where }) => {
    try {
      return decodePublicKey(text);
    } catch (error) {
      throw new UsageError(`${where}: ${(error as Error).message}`);
    }
  });
  return { section, strategy: strategy as SelectionStrategy, clientRegion, trustedKeys };
}

/**
 * The mirrors section from a file: YAML or JSON, either the section itself or a whole `depot.yaml`
 * (then only its `mirrors:` key is read here). Errors name the bad field's path.
 */
export async function loadMirrorsSection(file: string, wholeConfig: boolean): Promise<MirrorsSection> {
  const text = await fsp.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${error.code ?? error.message}`);
  });
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${file} is neither YAML nor JSON: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  const section = isObject(raw) && ('mirrors' in raw || wholeConfig) ? raw.mirrors : raw;
  if (section === undefined) throw new UsageError(`${file} has no mirrors section`);
  const parsed = mirrorsSectionSchema.safeParse(section);
  if (!parsed.success) {
    const prefix = isObject(raw) && 'mirrors' in raw ? 'mirrors.' : '';
    const issues = parsed.error.issues.map((issue) => `${prefix}${issue.path.join('.') || '(section)'}: ${issue.message}`);
    throw new UsageError(`${file}: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** A key entry is a path to a minisign .pub file (relative to `base`) or the key's base64 line itself. */
async function keyText(entry: string, base: string, where: string): Promise<{ text: string; where: string }> {
  if (/^RW[A-Za-z0-9+/]{40,}={0,2}$/.test(entry.trim())) return { text: entry.trim(), where };
  const file = path.resolve(base, entry);
  const text = await fsp.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${where}: cannot read the key file ${file}: ${error.code ?? error.message}`);
  });
  return { text, where: `${where} ${file}` };
}
