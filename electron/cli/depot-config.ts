import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { replicationSectionSchema, type ReplicationSectionInput } from '../../shared/domain/replication';
import { UsageError } from './cli-io';

/** The `replication:` section of a depot.yaml, validated now so a typo stops start-up with its path. */
export function replicationSectionOf(file: string): ReplicationSectionInput | undefined {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new UsageError(`--config ${file}: ${(error as Error).message}`);
  }
  const section = typeof document === 'object' && document !== null ? (document as Record<string, unknown>).replication : undefined;
  if (section === undefined) return undefined;
  const checked = replicationSectionSchema.safeParse(section);
  if (!checked.success) throw new UsageError(`--config ${file}: ${checked.error.issues.map((issue) => `replication.${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return section as ReplicationSectionInput;
}
