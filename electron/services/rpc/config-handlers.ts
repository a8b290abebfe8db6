import type { Core } from '../composition-root';
import type { RequestHandlers } from './request-router';
import { ConfigFileError, parseDepotConfig } from '../config/depot-config-file';
import { applyDepotConfig, exportDepotConfig } from '../config/apply-depot-config';

type ConfigChannel = Extract<keyof RequestHandlers, `config.${string}`>;

/** The `config.*` channels: the desktop's export and import of depot.yaml. */
export function createConfigHandlers(core: Omit<Core, 'router'>): Pick<RequestHandlers, ConfigChannel> {
  return {
    'config.export': async () => ({ fileName: 'depot.yaml', text: await exportDepotConfig(core) }),
    'config.check': ({ text }) => {
      try {
        parseDepotConfig(text, 'depot.yaml');
        return { ok: true, issues: [] };
      } catch (error) {
        if (error instanceof ConfigFileError) return { ok: false, issues: error.issues };
        throw error;
      }
    },
    // Relative key paths in an imported file resolve from the data folder (the file has no folder of its own).
    'config.import': ({ text }) => applyDepotConfig(core, parseDepotConfig(text, 'imported depot.yaml'), core.dataDir),
  };
}
