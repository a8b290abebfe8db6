import { z } from 'zod';

/** Non-secret preferences. Secrets never live here: they go through the secret store. */
export const settingsSchema = z.object({
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  notifications: z.boolean().default(true),
  /** Finished jobs kept in history; older ones are pruned. */
  jobHistoryLimit: z.number().int().min(10).max(100_000).default(1_000),
});
export type Settings = z.infer<typeof settingsSchema>;
export const settingsUpdateSchema = settingsSchema.partial().strict();
export type SettingsUpdate = z.infer<typeof settingsUpdateSchema>;
export const defaultSettings: Settings = settingsSchema.parse({});
