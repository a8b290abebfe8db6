import { z } from 'zod';
import { mirrorsSectionSchema } from './mirrors';
import { cdnSectionSchema } from './cdn';
import { replicationSectionSchema } from './replication';
import { backupSectionSchema } from './backup';

/**
 * `depot.yaml`: one declarative file for the headless host. Each top-level section belongs to one
 * capability and is validated by that capability's own schema (the same the HTTP API, the CLI flags and
 * the screens use). Unknown keys anywhere are errors. A capability not built yet owns its name but
 * accepts only an empty section, so a file never silently carries settings nothing reads.
 */
export const depotConfigSectionNames = ['storage', 'mirrors', 'cdn', 'replication', 'backup', 'deploy'] as const;
export type DepotConfigSectionName = (typeof depotConfigSectionNames)[number];

/** A section whose capability is not built yet: absent, null or `{}` only. */
export function notBuiltYetSection(name: string) {
  return z.object({}).strict().nullable().describe(`The ${name} section is not built yet in this version: leave it empty or remove it.`);
}

/** The registration table: section name → the schema of the capability that owns it. */
export const depotConfigSections = {
  storage: notBuiltYetSection('storage'),
  mirrors: mirrorsSectionSchema,
  cdn: cdnSectionSchema,
  replication: replicationSectionSchema,
  backup: backupSectionSchema,
  deploy: notBuiltYetSection('deploy'),
} satisfies Record<DepotConfigSectionName, z.ZodType>;

export const depotConfigSchema = z
  .object({
    storage: depotConfigSections.storage.optional(),
    mirrors: depotConfigSections.mirrors.optional(),
    cdn: depotConfigSections.cdn.optional(),
    replication: depotConfigSections.replication.optional(),
    backup: depotConfigSections.backup.optional(),
    deploy: depotConfigSections.deploy.optional(),
  })
  .strict();
export type DepotConfig = z.infer<typeof depotConfigSchema>;
export type DepotConfigInput = z.input<typeof depotConfigSchema>;
