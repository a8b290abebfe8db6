import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { depotConfigSchema, depotConfigSectionNames, type DepotConfig } from '../../../shared/domain/depot-config';
import { secretReferenceSchema } from '../../../shared/domain/config-values';
import { DepotError } from '../../../shared/errors';
import { resolveSecretReference } from '../secrets/secret-reference';

/** One problem in a config file, named by the path of the bad field (`mirrors.list.0.url`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A config file that cannot be used; every issue names its field. Nothing was applied. */
export class ConfigFileError extends DepotError {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super('VALIDATION_FAILED', `${file}: ${issues.map((issue) => `${issue.path || '(top level)'}: ${issue.message}`).join('; ')}`, { reason: 'bad-config' });
    this.name = 'ConfigFileError';
  }
}

const notBuilt = new Set(['storage', 'deploy']);

/** Parses `depot.yaml` / `depot.json` text (YAML is a superset of JSON) and validates every section. */
export function parseDepotConfig(text: string, file: string): DepotConfig {
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigFileError(
      file,
      document.errors.map((error) => {
        const before = text.slice(0, error.pos[0]).split('\n');
        return { path: '', message: `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}: ${error.message.split('\n')[0] ?? ''}` };
      }),
    );
  }
  const value: unknown = document.toJS() ?? {};
  const parsed = depotConfigSchema.safeParse(value);
  if (!parsed.success) throw new ConfigFileError(file, issuesOf(parsed.error));
  return parsed.data;
}

export function issuesOf(error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((issue): ConfigIssue[] => {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const fieldPath = [...base, key].join('.');
        if (base.length === 1 && notBuilt.has(base[0]!)) return { path: fieldPath, message: `the ${base[0]} section is not built yet in this version: leave it empty or remove it` };
        if (base.length === 0) return { path: fieldPath, message: `unknown section (the sections are ${depotConfigSectionNames.join(', ')})` };
        return { path: fieldPath, message: 'unknown key' };
      });
    }
    return [{ path: base.join('.'), message: issue.message }];
  });
}

export interface LoadedDepotConfig {
  file: string;
  /** Relative paths in the file (trusted keys, secret files) resolve from here. */
  baseDir: string;
  config: DepotConfig;
}

/** Reads and validates a config file; with `resolveSecrets`, every secret reference must resolve too. */
export async function loadDepotConfig(file: string, options: { resolveSecrets?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<LoadedDepotConfig> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    throw new ConfigFileError(absolute, [{ path: '', message: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
  }
  const config = parseDepotConfig(text, absolute);
  const baseDir = path.dirname(absolute);
  if (options.resolveSecrets) {
    const problems = await checkSecretReferences(config, baseDir, options.env ?? process.env);
    if (problems.length > 0) throw new ConfigFileError(absolute, problems);
  }
  return { file: absolute, baseDir, config };
}

/** The JSON Schema of the file (input form: durations as `10s`, sizes as `64KiB`), for editors. */
export function depotConfigJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Torsh Depot configuration (depot.yaml)',
    ...(z.toJSONSchema(depotConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
  };
}

export function stringifyDepotConfig(config: Record<string, unknown>): string {
  return stringify(config, { lineWidth: 0 });
}

type JsonSchemaNode = { pattern?: string; properties?: Record<string, JsonSchemaNode>; items?: JsonSchemaNode; anyOf?: JsonSchemaNode[]; oneOf?: JsonSchemaNode[]; allOf?: JsonSchemaNode[]; $ref?: string };

/**
 * Resolves every secret reference in the file (`${ENV}` must be set, `file:` must exist and be 0600).
 * Secret fields are found through the schema (fields typed as secret references), never by guessing.
 */
export async function checkSecretReferences(config: DepotConfig, baseDir: string, env: NodeJS.ProcessEnv): Promise<ConfigIssue[]> {
  const root = z.toJSONSchema(depotConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode & { $defs?: Record<string, JsonSchemaNode> };
  const secretPattern = (z.toJSONSchema(secretReferenceSchema) as JsonSchemaNode).pattern;
  const found = new Map<string, string>();
  const walk = (schema: JsonSchemaNode | undefined, value: unknown, at: string[]): void => {
    if (!schema || value === undefined || value === null) return;
    if (schema.$ref?.startsWith('#/$defs/')) return walk(root.$defs?.[schema.$ref.slice('#/$defs/'.length)], value, at);
    if (schema.pattern === secretPattern && typeof value === 'string') found.set(at.join('.'), value);
    for (const variant of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) walk(variant, value, at);
    if (schema.properties && typeof value === 'object' && !Array.isArray(value)) for (const [key, child] of Object.entries(value)) walk(schema.properties[key], child, [...at, key]);
    if (schema.items && Array.isArray(value)) value.forEach((child, index) => walk(schema.items, child, [...at, String(index)]));
  };
  walk(root, config, []);
  const issues: ConfigIssue[] = [];
  for (const [fieldPath, reference] of found) {
    try {
      await resolveSecretReference(reference, { env, baseDir });
    } catch (error) {
      issues.push({ path: fieldPath, message: (error as Error).message });
    }
  }
  return issues;
}
