import { z } from 'zod';
import { defineRequests } from './define';
import { healthSchema } from '../domain/health';
import { settingsSchema, settingsUpdateSchema } from '../domain/settings';

export const appChannels = defineRequests({
  'app.health': { input: z.object({}).strict(), output: healthSchema, summary: 'Health of the core and its host.' },
  'settings.get': { input: z.object({}).strict(), output: settingsSchema, summary: 'Current preferences.' },
  'settings.update': { input: settingsUpdateSchema, output: settingsSchema, summary: 'Change some preferences.' },
  'app.chooseFolder': {
    input: z.object({ title: z.string().max(200).default('Choose a folder') }).strict(),
    output: z.object({ path: z.string().nullable() }),
    summary: 'Ask the user for a folder with the native dialog (desktop only); null when cancelled.',
  },
});
