import path from 'node:path';
import { writeMirrorsSettings } from '../../../shared/domain/mirrors';
import { writeCdnSection } from '../../../shared/domain/cdn';
import type { DepotConfig, DepotConfigSectionName } from '../../../shared/domain/depot-config';
import type { Core } from '../composition-root';
import { isInlineKey } from '../mirrors/mirror-trust';
import { stringifyDepotConfig } from './depot-config-file';

type SectionApplier<Name extends DepotConfigSectionName> = (core: Pick<Core, 'mirrors' | 'cdn' | 'replication' | 'backups'>, section: NonNullable<DepotConfig[Name]>, baseDir: string) => Promise<void>;

/** Each capability's way of taking its section; capabilities add theirs here as they are built. */
const appliers: { [Name in DepotConfigSectionName]?: SectionApplier<Name> } = {
  mirrors: async (core, section, baseDir) => {
    // Key files named in the file are relative to the file, not to wherever the host was started.
    const trusted_keys = section.trusted_keys.map((entry) => (isInlineKey(entry) ? entry : path.resolve(baseDir, entry)));
    await core.mirrors.replaceSection({ ...section, trusted_keys });
  },
  cdn: async (core, section, baseDir) => {
    await core.cdn.replaceSection(writeCdnSection(section), baseDir);
  },
  replication: (core, section) => core.replication.replaceSection(section),
  backup: (core, section, baseDir) => {
    // `file:` secrets named in the file are relative to the file too.
    const absolute = (reference: string): string => (reference.startsWith('file:') ? `file:${path.resolve(baseDir, reference.slice('file:'.length))}` : reference);
    return core.backups.replaceSection({
      repositories: section.repositories.map((repository) => ({ ...repository, passphrase: absolute(repository.passphrase), ...(repository.identity ? { identity: absolute(repository.identity) } : {}) })),
    });
  },
};

export interface AppliedConfig {
  /** Sections now in force. */
  applied: DepotConfigSectionName[];
  /** Sections that validated but that no service of this build takes yet. */
  notApplied: DepotConfigSectionName[];
}

/** Hands every present section to its owner; a section absent from the file leaves that capability as it is. */
export async function applyDepotConfig(core: Pick<Core, 'mirrors' | 'cdn' | 'replication' | 'backups'>, config: DepotConfig, baseDir: string, takenElsewhere: readonly DepotConfigSectionName[] = []): Promise<AppliedConfig> {
  const result: AppliedConfig = { applied: [], notApplied: [] };
  for (const name of Object.keys(config) as DepotConfigSectionName[]) {
    const section = config[name];
    if (section === undefined || section === null) continue;
    if (takenElsewhere.includes(name)) {
      result.applied.push(name);
      continue;
    }
    const apply = appliers[name] as SectionApplier<typeof name> | undefined;
    if (!apply) {
      result.notApplied.push(name);
      continue;
    }
    await apply(core, section as never, baseDir);
    result.applied.push(name);
  }
  return result;
}

/** What the desktop keeps, as a `depot.yaml` (the sections this build manages in SQLite). */
export async function exportDepotConfig(core: Pick<Core, 'mirrors' | 'cdn'>): Promise<string> {
  const settings = writeMirrorsSettings(await core.mirrors.settings());
  const list = await core.mirrors.configs();
  const cdn = await core.cdn.section();
  return `# Torsh Depot configuration, exported ${new Date().toISOString()}\n${stringifyDepotConfig({ mirrors: { ...settings, list }, ...(cdn ? { cdn: writeCdnSection(cdn) } : {}) })}`;
}
