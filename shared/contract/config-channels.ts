import { z } from 'zod';
import { defineRequests } from './define';
import { depotConfigSectionNames } from '../domain/depot-config';

const issues = z.array(z.object({ path: z.string(), message: z.string() }));
const sectionNames = z.array(z.enum(depotConfigSectionNames));

export const configChannels = defineRequests({
  'config.export': {
    input: z.object({}).strict(),
    output: z.object({ fileName: z.string(), text: z.string() }),
    summary: 'The settings this app keeps (mirrors …) as a depot.yaml for `torsh-depot serve --config`.',
  },
  'config.check': {
    input: z.object({ text: z.string().max(4 * 1024 * 1024) }).strict(),
    output: z.object({ ok: z.boolean(), issues }),
    summary: 'Validate a depot.yaml (or JSON) without applying it; each issue names the bad field by its path.',
  },
  'config.import': {
    input: z.object({ text: z.string().max(4 * 1024 * 1024) }).strict(),
    output: z.object({ applied: sectionNames, notApplied: sectionNames }),
    summary: 'Apply a depot.yaml: every section it holds replaces that capability’s settings; an invalid file changes nothing.',
  },
});
