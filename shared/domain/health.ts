import { z } from 'zod';

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  /** Which shell hosts the core: the desktop app or the headless host. */
  shell: z.enum(['desktop', 'headless']),
  uptimeSeconds: z.number(),
  dataDir: z.string(),
  databaseBytes: z.number().int(),
  runningJobs: z.number().int(),
  problems: z.array(z.string()),
});
export type Health = z.infer<typeof healthSchema>;

export const notificationSchema = z.object({
  title: z.string(),
  body: z.string(),
  level: z.enum(['info', 'success', 'warning', 'error']),
});
export type AppNotification = z.infer<typeof notificationSchema>;
